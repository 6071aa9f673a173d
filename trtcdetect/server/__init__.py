"""The reference endpoint (`trtcdetect serve`): STUN on the TRTC UDP ports, TCP listeners, HTTPS."""
