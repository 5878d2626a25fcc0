"""A one-node Slurm cluster on localhost, for tests that go through the real scheduler.

`LocalSlurm(folder).start()` installs Debian's Slurm and MUNGE when they are missing (as root, with apt-get), writes a
`slurm.conf` (one node, one partition with this machine's CPUs, no cgroups: `proctrack/linuxproc`, `task/none`), and
starts its own `munged`, `slurmctld` and `slurmd` with their state, sockets, logs and key in `folder`, on free ports,
so it touches no system Slurm. It returns `None` when the node is idle, or the reason it could not start the cluster.
`stop()` cancels every job and ends the daemons. Clients find the cluster through `SLURM_CONF`, which `env` holds.
"""
import os, shutil, socket, subprocess, time
from pathlib import Path

PACKAGES = ('munge', 'slurmctld', 'slurmd', 'slurm-client')
DAEMONS = ('munged', 'slurmctld', 'slurmd')

def free_port()->int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def install()->str|None:
    "Install the Debian packages when a daemon is missing; the reason when that cannot be done."
    if all(shutil.which(d) or Path('/usr/sbin', d).exists() for d in DAEMONS): return None
    if os.geteuid() != 0 or not shutil.which('apt-get'):
        return f"Slurm is not installed and installing it needs root and apt-get: apt-get install {' '.join(PACKAGES)}"
    env = {**os.environ, 'DEBIAN_FRONTEND': 'noninteractive'}
    for cmd in (['apt-get', 'update', '-qq'], ['apt-get', 'install', '-y', '-qq', *PACKAGES]):
        r = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if r.returncode: return f"{' '.join(cmd)} failed: {r.stderr.strip()[-300:]}"
    return None

def _sbin(name:str)->str: return shutil.which(name) or f'/usr/sbin/{name}'

def memory_mb()->int:
    "Half of this machine's memory, in MB: what the node offers to jobs."
    kb = next(int(l.split()[1]) for l in open('/proc/meminfo') if l.startswith('MemTotal'))
    return kb // 2048

class LocalSlurm:
    def __init__(self, folder, cpus:int|None=None):
        self.folder, self.cpus = Path(folder), cpus or len(os.sched_getaffinity(0))
        self.host = socket.gethostname().split('.')[0]
        self.conf, self.munge_socket = self.folder/'slurm.conf', self.folder/'munge'/'munge.socket'
        self.env = {**os.environ, 'SLURM_CONF': str(self.conf)}

    def config(self)->str:
        "The cluster's `slurm.conf`."
        f, ports = self.folder, (free_port(), free_port())
        return '\n'.join([
            'ClusterName=stitchbook-test', f'SlurmctldHost={self.host}', 'SlurmUser=root', 'SlurmdUser=root',
            'AuthType=auth/munge', f'AuthInfo=socket={self.munge_socket}', 'CredType=cred/munge',
            'ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/none', 'JobAcctGatherType=jobacct_gather/none',
            'AccountingStorageType=accounting_storage/none', 'SchedulerType=sched/backfill',
            'SelectType=select/cons_tres', 'SelectTypeParameters=CR_Core', 'MpiDefault=none', 'ReturnToService=2',
            'SchedulerParameters=sched_interval=1', 'MinJobAge=600', 'KillWait=5',
            f'StateSaveLocation={f/"state"}', f'SlurmdSpoolDir={f/"spool"}',
            f'SlurmctldPidFile={f/"slurmctld.pid"}', f'SlurmdPidFile={f/"slurmd.pid"}',
            f'SlurmctldLogFile={f/"slurmctld.log"}', f'SlurmdLogFile={f/"slurmd.log"}',
            f'SlurmctldPort={ports[0]}', f'SlurmdPort={ports[1]}',
            f'NodeName={self.host} CPUs={self.cpus} RealMemory={memory_mb()} State=UNKNOWN',
            f'PartitionName=test Nodes={self.host} Default=YES MaxTime=INFINITE State=UP', ''])

    def _munge(self)->str|None:
        "Our own munged, with a fresh key, on a socket in the cluster's folder."
        d = self.munge_socket.parent; d.mkdir(parents=True, exist_ok=True)
        key = d/'munge.key'
        key.write_bytes(os.urandom(1024)); key.chmod(0o600)
        r = subprocess.run([_sbin('munged'), '--force', f'--socket={self.munge_socket}', f'--key-file={key}',
                            f'--pid-file={d/"munged.pid"}', f'--log-file={d/"munged.log"}', f'--seed-file={d/"seed"}'],
                           capture_output=True, text=True)
        return None if r.returncode == 0 else f"munged did not start: {r.stderr.strip()[-300:]}"

    def _daemon(self, name:str)->str|None:
        r = subprocess.run([_sbin(name), '-f', str(self.conf)], env=self.env, capture_output=True, text=True)
        if r.returncode: return f"{name} did not start: {r.stderr.strip()[-300:]} (log: {self.folder/(name + '.log')})"
        return None

    def sinfo(self)->str:
        r = subprocess.run(['sinfo', '-h', '-o', '%T'], env=self.env, capture_output=True, text=True)
        return r.stdout.strip()

    def start(self, timeout:float=60)->str|None:
        "Start the cluster; `None` once its node is idle, else the reason it could not start."
        if why := install(): return why
        if os.geteuid() != 0: return "the test cluster runs its daemons as root (SlurmUser=root); run the tests as root"
        for sub in ('state', 'spool'): (self.folder/sub).mkdir(parents=True, exist_ok=True)
        self.conf.write_text(self.config())
        for step in (self._munge, lambda: self._daemon('slurmctld'), lambda: self._daemon('slurmd')):
            if why := step(): self.stop(); return why
        t0 = time.time()
        while time.time() - t0 < timeout:
            if self.sinfo() == 'idle': return None
            time.sleep(0.5)
        why = f"the node is not idle after {timeout:.0f} s (sinfo: {self.sinfo()!r}; logs in {self.folder})"
        self.stop(); return why

    def run(self, *cmd)->subprocess.CompletedProcess:
        "A Slurm client command against this cluster."
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True)

    def stop(self):
        "Cancel every job, then end slurmd, slurmctld and munged."
        if self.conf.exists(): self.run('scancel', '--full', '-u', 'root'); time.sleep(1)
        for pid_file in (self.folder/'slurmd.pid', self.folder/'slurmctld.pid', self.munge_socket.parent/'munged.pid'):
            try: pid = int(pid_file.read_text().split()[0])
            except (FileNotFoundError, ValueError): continue
            _end(pid)

def _end(pid:int, wait:float=10):
    "SIGTERM, then SIGKILL if the process is still there after `wait` seconds (slurmd waits for stuck job steps)."
    try: os.kill(pid, 15)
    except ProcessLookupError: return
    t0 = time.time()
    while time.time() - t0 < wait:
        try: os.kill(pid, 0)
        except ProcessLookupError: return
        time.sleep(0.2)
    try: os.kill(pid, 9)
    except ProcessLookupError: pass
