"""acme-client: a small client for the ACME inventory API."""

__version__ = "1.4.2"
