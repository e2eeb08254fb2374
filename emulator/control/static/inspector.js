// The inspector page: polls GET /_emulator/ui/state about once a second and redraws the parts
// that changed. Every string from the emulator is set as text (never as HTML): prompts, file
// names and URLs are whatever a test sent.
"use strict";

const BASE = "/_emulator";
const POLL_MS = 1000;
const state = {
  selected: new URLSearchParams(location.hash.slice(1)).get("account"),
  drawn: {},  // section name → the JSON it was last drawn from, so unchanged sections are left alone
  timer: null,
  asked: 0,  // polls started; a slow answer older than the one drawn is dropped
  shown: 0,
};

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "className") node.className = value;
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function iso(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  return new Date(seconds * 1000).toISOString().replace("T", " ").replace(/\.000Z$/, "Z");
}

function timeCell(seconds) {
  return el("td", {}, seconds === null || seconds === undefined
    ? "—" : el("time", { datetime: new Date(seconds * 1000).toISOString() }, iso(seconds)));
}

function offset(seconds, from) {
  const delta = Math.round((seconds - from) * 1000) / 1000;
  return delta >= 0 ? `+${delta} s` : `${delta} s`;
}

function short(id) {
  return id && id.length > 18 ? `${id.slice(0, 8)}…${id.slice(-6)}` : id;
}

function idCell(id) {
  return el("td", { className: "mono", title: id }, el("code", {}, id));
}

function emptyRow(columns, text) {
  return el("tr", { className: "empty" }, el("td", { colspan: columns }, text));
}

function replaceBody(table, rows, columns, emptyText) {
  const body = document.querySelector(`#${table} tbody`);
  body.replaceChildren(...(rows.length ? rows : [emptyRow(columns, emptyText)]));
}

function count(id, shown, total) {
  document.getElementById(id).textContent = total > shown ? `(${shown} newest of ${total})` : `(${total})`;
}

function changed(name, value) {
  const text = JSON.stringify(value);
  if (state.drawn[name] === text) return false;
  state.drawn[name] = text;
  return true;
}

// -- sections -------------------------------------------------------------------------------

function drawClock(clock) {
  document.getElementById("clock-mode").textContent = clock.speed !== 1 && clock.mode === "real"
    ? `${clock.mode} (×${clock.speed})` : clock.mode;
  const now = document.getElementById("clock-now");
  now.textContent = `${iso(clock.now)} (${clock.now})`;
  now.setAttribute("datetime", new Date(clock.now * 1000).toISOString());
}

function selectAccount(accountId) {
  state.selected = accountId;
  history.replaceState(null, "", `#account=${encodeURIComponent(accountId)}`);
  poll();
}

function drawAccounts(accounts) {
  count("accounts-count", accounts.items.length, accounts.total);
  const rows = accounts.items.map((a) => {
    const selected = a.account_id === state.selected;
    const keys = a.keys.map((k) => `${k.display}${k.revoked_at !== null ? " (revoked)" : ""}`).join(", ");
    return el("tr", { id: `account-${a.account_id}`, "data-account-id": a.account_id,
                      className: selected ? "selected" : null, "aria-selected": selected ? "true" : "false" },
      idCell(a.account_id), el("td", {}, a.vendor), el("td", {}, a.plan ?? "—"),
      el("td", { className: "num credits" }, a.credits), el("td", { className: "num held" }, a.held),
      el("td", { className: "num available" }, a.available), el("td", { className: "mono" }, keys),
      el("td", {}, el("button", { type: "button", "aria-label": `Show ledger of ${a.account_id}`,
                                  onclick: () => selectAccount(a.account_id) }, "Ledger")));
  });
  replaceBody("accounts", rows, 8, "No accounts yet: POST /_emulator/accounts.");
}

function drawLedger(ledger) {
  const label = document.getElementById("ledger-account");
  if (!ledger) {
    label.textContent = state.selected ? `(no account ${state.selected})` : "(choose an account)";
    replaceBody("ledger", [], 8, "Choose an account above to see its ledger.");
    return;
  }
  label.textContent = ledger.total > ledger.entries.length
    ? `of ${ledger.account_id} (${ledger.entries.length} newest of ${ledger.total})` : `of ${ledger.account_id}`;
  const rows = ledger.entries.map((e) => el("tr", { "data-kind": e.kind, "data-seq": e.seq },
    el("td", { className: "num" }, e.seq), timeCell(e.at), el("td", { className: `kind kind-${e.kind}` }, e.kind),
    el("td", { className: "num amount" }, e.amount), el("td", { className: "mono" }, e.ref ?? "—"),
    el("td", {}, e.note ?? ""), el("td", { className: "num" }, e.credits_after),
    el("td", { className: "num" }, e.held_after)));
  replaceBody("ledger", rows, 8, "No entries.");
}

function timeline(task) {
  return el("ol", { className: "timeline", "aria-label": `Timeline of ${task.id}` },
    task.timeline.map((step) => el("li", {
      "data-state": step.state,
      className: [step.current ? "current" : "", step.reached ? "reached" : "future"].join(" ").trim(),
      "aria-current": step.current ? "step" : null,
    }, el("span", { className: "step-state" }, step.state), " ",
       el("time", { datetime: new Date(step.at * 1000).toISOString(), title: iso(step.at) },
          offset(step.at, task.created_at)))));
}

function drawTasks(tasks) {
  count("tasks-count", tasks.items.length, tasks.total);
  const rows = tasks.items.map((t) => el("tr", { id: `task-${t.id}`, "data-state": t.state, "data-vendor": t.vendor },
    idCell(t.id), el("td", {}, t.vendor), el("td", {}, t.kind),
    el("td", { className: "mono", title: t.account_id }, short(t.account_id)),
    el("td", { className: `state state-${t.state}` }, t.state,
       t.error_code ? el("div", { className: "error", title: t.error_message ?? "" }, t.error_code) : null),
    el("td", { className: "num" }, el("progress", { max: 100, value: t.progress, "aria-label": `progress of ${t.id}` }),
       ` ${t.progress}%`),
    el("td", {}, timeline(t))));
  replaceBody("tasks", rows, 7, "No tasks yet.");
}

function drawAssets(assets) {
  document.getElementById("assets-count").textContent = assets.scope === "selected"
    ? `(${assets.items.length}, the selected account's only: many tasks)` : `(${assets.items.length})`;
  const rows = assets.items.map((a) => el("tr", { id: `asset-${a.id}`, "data-status": a.status },
    idCell(a.id), el("td", {}, a.vendor), el("td", { className: "mono", title: a.account_id }, short(a.account_id)),
    el("td", {}, a.kind), el("td", { className: "status" }, a.status), el("td", {}, a.name ?? "—"),
    timeCell(a.created_at), el("td", {}, a.detail ?? (a.url ?? ""))));
  replaceBody("assets", rows, 8, "No assets or uploads.");
}

function attemptsTable(delivery) {
  const rows = delivery.attempts.map((a) => el("tr", { "data-status": a.status ?? "", "data-number": a.number },
    el("td", { className: "num" }, a.number), timeCell(a.planned_at),
    el("td", { className: `attempt-status ${a.status >= 200 && a.status < 300 ? "ok" : "bad"}` },
       a.status ?? a.error ?? "in flight"),
    el("td", { className: "num" }, a.latency_ms === null ? "—" : `${a.latency_ms} ms`),
    el("td", { className: "mono signature" },
       delivery.signature ? `${delivery.signature.header}: ${delivery.signature.value}` : "unsigned")));
  return el("table", { className: "attempts", "aria-label": `Attempts of ${delivery.id}` },
    el("thead", {}, el("tr", {}, ["#", "Planned", "Status", "Latency", "Signature header"].map(
      (h) => el("th", { scope: "col" }, h)))),
    el("tbody", {}, rows.length ? rows : emptyRow(5, "not attempted yet")));
}

function drawWebhooks(webhooks) {
  count("webhooks-count", webhooks.items.length, webhooks.total);
  const rows = webhooks.items.map((d) => el("tr", { id: `delivery-${d.id}`, "data-state": d.state },
    idCell(d.id), el("td", {}, d.vendor), el("td", {}, d.event),
    el("td", { className: "mono", title: d.ref ?? "" }, short(d.ref) ?? "—"),
    el("td", { className: "mono url" }, d.url), el("td", { className: `state state-${d.state}` }, d.state),
    timeCell(d.next_attempt_at), el("td", {}, attemptsTable(d))));
  replaceBody("webhooks", rows, 8, "No webhook deliveries.");
}

function describeEffect(f) {
  const parts = [];
  if (f.status !== null) parts.push(`answer ${f.status}${f.error ? ` ${f.error}` : ""}`);
  if (f.drop_connection) parts.push("drop the connection");
  if (f.latency_ms) parts.push(`+${f.latency_ms} ms`);
  if (f.latency_distribution) parts.push(`latency ${JSON.stringify(f.latency_distribution)}`);
  if (f.retry_after !== null) parts.push(`Retry-After ${f.retry_after}`);
  return parts.join(", ");
}

function drawFaults(faults) {
  document.getElementById("faults-count").textContent = `(${faults.length})`;
  const rows = faults.map((f) => el("tr", { id: `fault-${f.id}` },
    idCell(f.id),
    el("td", {}, [f.vendor ?? "any vendor", f.operation ?? "any operation", f.key_id ?? "any key"].join(" · ")),
    el("td", { className: "effect" }, describeEffect(f)), el("td", { className: "num" }, f.probability),
    el("td", { className: "num" }, f.remaining ?? "∞"), el("td", { className: "num matched" }, f.matched),
    el("td", { className: "num fired" }, f.fired)));
  replaceBody("faults", rows, 7, "No active faults.");
}

// -- polling and the advance control --------------------------------------------------------

function setStatus(text, failed) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.classList.toggle("failed", Boolean(failed));
}

async function poll() {
  clearTimeout(state.timer);
  const number = ++state.asked;
  try {
    const query = state.selected ? `?account=${encodeURIComponent(state.selected)}` : "";
    const response = await fetch(`${BASE}/ui/state${query}`, { cache: "no-store" });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    const snapshot = await response.json();
    if (number < state.shown) return;
    state.shown = number;
    if (!state.selected && snapshot.accounts.items.length) {
      selectAccount(snapshot.accounts.items[snapshot.accounts.items.length - 1].account_id);  // the oldest
      return;
    }
    drawClock(snapshot.clock);
    if (changed("accounts", [snapshot.accounts, state.selected])) drawAccounts(snapshot.accounts);
    if (changed("ledger", [snapshot.ledger, state.selected])) drawLedger(snapshot.ledger);
    if (changed("tasks", snapshot.tasks)) drawTasks(snapshot.tasks);
    if (changed("assets", snapshot.assets)) drawAssets(snapshot.assets);
    if (changed("webhooks", snapshot.webhooks)) drawWebhooks(snapshot.webhooks);
    if (changed("faults", snapshot.faults)) drawFaults(snapshot.faults);
    document.body.dataset.clockNow = snapshot.clock.now;
    setStatus(`Updated ${new Date().toLocaleTimeString()} · polling every ${POLL_MS / 1000} s`);
  } catch (error) {
    setStatus(`Cannot reach the emulator: ${error.message}`, true);
  } finally {
    clearTimeout(state.timer);
    state.timer = setTimeout(poll, POLL_MS);
  }
}

async function advance(event) {
  event.preventDefault();
  const input = document.getElementById("advance-seconds");
  const seconds = Number(input.value);
  if (!input.checkValidity() || !Number.isFinite(seconds)) {
    setStatus("Give a number of seconds ≥ 0.", true);
    return;
  }
  const button = document.getElementById("advance-button");
  button.disabled = true;
  try {
    const response = await fetch(`${BASE}/clock/advance`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ seconds }),
    });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    await poll();
  } catch (error) {
    setStatus(`Advance failed: ${error.message}`, true);
  } finally {
    button.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("advance-form").addEventListener("submit", advance);
  poll();
});
