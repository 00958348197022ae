"""What every layer above may use to touch files and devices: atomic writes (atomic.py), loads
that never run a file's code (weights.py), checks that a path is a regular file before it is
read (regular.py), one writer per output folder (lock.py), and the choice of device
(device.py)."""
