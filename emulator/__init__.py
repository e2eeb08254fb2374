"""seedance-emulator: an offline, faithful emulator of the Seedance 2.0 vendor APIs."""

__version__ = "0.1.0"
