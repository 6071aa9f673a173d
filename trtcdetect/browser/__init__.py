"""Browsers on this machine: finding them, and running a local WebRTC page in one."""
