"""What every layer above may use to touch files and devices: atomic writes (atomic.py), loads
that never run a file's code (weights.py), and the choice of device (device.py)."""
