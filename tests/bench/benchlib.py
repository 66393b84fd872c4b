"""What every benchmark script measures a process with, and where it listens."""
import os
import socket

CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port(host="127.0.0.1"):
    """A port free for both TCP and UDP on host (DNS servers want both)."""
    for _ in range(100):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
                u.bind((host, port))
            return port
        except OSError:
            continue
    raise RuntimeError("no free port")


def rss_kb(pid):
    """Resident set size in KiB (VmRSS), 0 once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        pass
    return 0


def cpu_seconds(pid):
    """CPU time the process has used so far: utime + stime."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def machine():
    """The machine a benchmark ran on, for the record: CPUs, model, RAM, kernel."""
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return f"{os.cpu_count()} cpus ({cpu}), {mem_kb / 1024 / 1024:.1f} GiB RAM, {os.uname().release}"
