#!/usr/bin/env python3
"""HELICS peer benchmark: time steps per second of a ring of value federates.

Usage: python3 benches/peers/helics_steps.py N STEPS [--timeout SECONDS]

Starts one `helics_broker` (ZMQ core) and N Python value federates, each in
its own process, everything bound to 127.0.0.1. Federate i publishes one
double per step (the value k at step k), subscribes to federate (i-1) mod N
and calls requestTime(k) for k = 1..STEPS. After the run every federate must
have been granted exactly k at each step and must have received the sum
1 + 2 + ... + STEPS from its neighbour; otherwise the script fails.

Prints one line of JSON on stdout:
  {"peer":"helics","version":...,"members":N,"steps":STEPS,
   "wall_s":...,"steps_per_s":...}
wall_s runs from the first federate entering executing mode to the last
federate's final time grant (process start-up and registration excluded).

Exit codes: 0 ok, 1 run failed or result wrong, 2 bad arguments,
3 the `helics` Python package is not installed (pip install helics),
4 timed out (every process this script started is killed, by PID).
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"
DEFAULT_TIMEOUT_S = 300.0


def die(msg, code):
    print(f"helics_steps: {msg}", file=sys.stderr)
    sys.exit(code)


def import_helics():
    try:
        import helics  # noqa: PLC0415
    except ImportError:
        die(
            "the Python package 'helics' is not installed; "
            "run: pip install -r benches/peers/requirements.txt",
            3,
        )
    return helics


def free_port_pair():
    """A port p on 127.0.0.1 such that p and p+1 are both free right now.

    The ZMQ broker listens on its port and the next one."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((HOST, 0))
            p = s.getsockname()[1]
        if p >= 65000:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s2:
                s2.bind((HOST, p + 1))
            return p
        except OSError:
            continue
    die("could not find two free consecutive ports on 127.0.0.1", 1)


# ---------------------------------------------------------------- federate


def run_federate(index, members, steps, port, timeout_s):
    h = import_helics()
    name = f"ring{index}"
    fi = h.helicsCreateFederateInfo()
    h.helicsFederateInfoSetCoreName(fi, f"core_{name}_{os.getpid()}")
    h.helicsFederateInfoSetCoreTypeFromString(fi, "zmq")
    h.helicsFederateInfoSetCoreInitString(
        fi,
        " ".join(
            [
                "--federates=1",
                "--local",
                f"--broker_address=tcp://{HOST}",
                f"--brokerport={port}",
                f"--local_interface=tcp://{HOST}",
                f"--maxcosimduration={int(timeout_s) + 10}s",
                "--loglevel=warning",
            ]
        ),
    )
    h.helicsFederateInfoSetTimeProperty(fi, h.HELICS_PROPERTY_TIME_PERIOD, 1.0)
    h.helicsFederateInfoSetFlagOption(fi, h.HELICS_FLAG_UNINTERRUPTIBLE, True)
    fed = h.helicsCreateValueFederate(name, fi)
    pub = h.helicsFederateRegisterGlobalPublication(
        fed, f"v{index}", h.HELICS_DATA_TYPE_DOUBLE, ""
    )
    sub = h.helicsFederateRegisterSubscription(
        fed, f"v{(index - 1) % members}", ""
    )
    h.helicsFederateEnterExecutingMode(fed)

    received = 0.0
    updates = 0
    bad_grants = 0
    start = time.monotonic()
    for k in range(1, steps + 1):
        h.helicsPublicationPublishDouble(pub, float(k))
        granted = h.helicsFederateRequestTime(fed, float(k))
        if granted != float(k):
            bad_grants += 1
        if h.helicsInputIsUpdated(sub):
            received += h.helicsInputGetDouble(sub)
            updates += 1
    end = time.monotonic()

    h.helicsFederateDisconnect(fed)
    h.helicsFederateFree(fed)
    h.helicsFederateInfoFree(fi)
    h.helicsCloseLibrary()
    print(
        json.dumps(
            {
                "index": index,
                "start": start,
                "end": end,
                "sum": received,
                "updates": updates,
                "bad_grants": bad_grants,
            }
        ),
        flush=True,
    )


# ------------------------------------------------------------------ driver


def kill_all(procs):
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()  # SIGKILL to this child's own PID only
            except ProcessLookupError:
                pass
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


def main(argv):
    args = list(argv[1:])
    timeout_s = DEFAULT_TIMEOUT_S
    if "--timeout" in args:
        i = args.index("--timeout")
        try:
            timeout_s = float(args[i + 1])
        except (IndexError, ValueError):
            die("--timeout needs a number of seconds", 2)
        del args[i : i + 2]
    if len(args) >= 1 and args[0] == "--federate":
        try:
            index, members, steps, port = (int(a) for a in args[1:5])
        except ValueError:
            die("internal: bad --federate arguments", 2)
        run_federate(index, members, steps, port, timeout_s)
        return 0
    if len(args) != 2:
        die("usage: helics_steps.py N STEPS [--timeout SECONDS]", 2)
    try:
        members, steps = int(args[0]), int(args[1])
    except ValueError:
        die("N and STEPS must be integers", 2)
    if members < 2 or steps < 1:
        die("need N >= 2 and STEPS >= 1", 2)

    h = import_helics()
    version = h.helicsGetVersion().split()[0]
    from helics.bin import BIN_DIR  # noqa: PLC0415

    broker_bin = os.path.join(BIN_DIR, "helics_broker")
    if not os.access(broker_bin, os.X_OK):
        die(f"helics_broker not found at {broker_bin}", 3)

    port = free_port_pair()
    deadline = time.monotonic() + timeout_s
    logdir = tempfile.mkdtemp(prefix="helics_steps_")
    procs = []
    logs = []

    def spawn(cmd, tag):
        log = open(os.path.join(logdir, tag + ".log"), "w+")
        logs.append(log)
        p = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        procs.append(p)
        return p, log

    def text(log):
        log.flush()
        log.seek(0)
        return log.read()

    try:
        broker, broker_log = spawn(
            [
                broker_bin,
                "--coretype=zmq",
                f"--federates={members}",
                f"--name=twinpeer{os.getpid()}",
                "--local",
                f"--local_interface=tcp://{HOST}",
                f"--port={port}",
                f"--maxcosimduration={int(timeout_s) + 10}s",
                "--loglevel=warning",
            ],
            "broker",
        )
        time.sleep(0.3)  # let the broker bind before the cores connect
        feds = [
            spawn(
                [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--federate",
                    str(i),
                    str(members),
                    str(steps),
                    str(port),
                    "--timeout",
                    str(timeout_s),
                ],
                f"fed{i}",
            )
            for i in range(members)
        ]
        # Wait for every process (federates and broker) to exit by itself.
        while any(p.poll() is None for p in procs):
            failed = [p for p, _ in feds if p.poll() not in (None, 0)]
            if failed or broker.poll() not in (None, 0):
                time.sleep(1.0)  # give the others a moment, then stop them
                kill_all(procs)
                msgs = [f"--- broker (rc {broker.returncode})\n{text(broker_log)}"]
                msgs += [f"--- fed (rc {p.returncode})\n{text(l)}" for p, l in feds]
                die("a process failed:\n" + "\n".join(msgs), 1)
            if time.monotonic() > deadline:
                kill_all(procs)
                die(f"timed out after {timeout_s:g} s; killed the processes "
                    f"{[p.pid for p in procs]} (logs in {logdir})", 4)
            time.sleep(0.02)
        if broker.returncode != 0 or any(p.returncode != 0 for p, _ in feds):
            die(f"a process failed (logs in {logdir})", 1)
        outs = [text(l) for _, l in feds]
    except BaseException:
        kill_all(procs)
        raise
    finally:
        for log in logs:
            log.close()
    shutil.rmtree(logdir, ignore_errors=True)

    results = []
    for out in outs:
        lines = [line for line in out.splitlines() if line.startswith("{")]
        if not lines:
            die(f"a federate printed no result: {out!r}", 1)
        results.append(json.loads(lines[-1]))

    expected = steps * (steps + 1) / 2
    for r in results:
        if r["bad_grants"]:
            die(f"federate {r['index']}: {r['bad_grants']} grants not at k", 1)
        if r["updates"] != steps or r["sum"] != expected:
            die(
                f"federate {r['index']}: received {r['updates']} values "
                f"summing to {r['sum']}, expected {steps} summing to {expected}",
                1,
            )
    wall = max(r["end"] for r in results) - min(r["start"] for r in results)
    print(
        json.dumps(
            {
                "peer": "helics",
                "version": version,
                "core": "zmq",
                "members": members,
                "steps": steps,
                "wall_s": round(wall, 6),
                "steps_per_s": round(steps / wall, 1),
                "checked_sum_per_member": expected,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
