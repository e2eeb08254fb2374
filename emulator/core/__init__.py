"""Vendor-neutral machinery shared by every vendor package."""
