"""Genray's contract suite (genray.md), through client/genray.py."""
