"""chatd: a self-hosted real-time chat server for one homelab box."""

__version__ = "0.1.0"
