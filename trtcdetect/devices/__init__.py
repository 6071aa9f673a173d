"""Devices: threads that own a device (bounded open, read and release), and audio levels."""
