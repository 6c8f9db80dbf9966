"""Red team: at import, a System V shared memory segment, a message queue and a semaphore set under a known
key, never removed; and a report of whether the key's segment of an earlier job was still there."""
import ctypes
import ctypes.util

from micrograd.engine import Value

__all__ = ["Value"]

KEY = 0x5EED0421
IPC_CREAT, IPC_EXCL = 0o1000, 0o2000
libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
try:
    earlier = libc.shmget(KEY, 0, 0o600) != -1
    made = [libc.shmget(KEY, 2**20, IPC_CREAT | 0o600), libc.msgget(KEY, IPC_CREAT | 0o600),
            libc.semget(KEY, 4, IPC_CREAT | 0o600)]
    print(f"micrograde-redteam sysv: earlier={earlier} made={made}", flush=True)
except AttributeError:  # no System V IPC in this C library
    print("micrograde-redteam sysv: none", flush=True)
