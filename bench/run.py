"""The benchmark harness behind scripts/bench: runs every scenario against its baselines on
loopback, at least --runs times each, and writes BENCHMARKS.md with medians and ratios.

Timings are wall-clock (time.perf_counter around the whole process, or wrk's own Requests/sec);
peak memory is GNU time's, CPU time the children's rusage; the binding's cost is also counted in
instructions (callgrind). The sandboxes are `runbook sandbox` processes of
the same release build, one per scenario family, with a quota high enough never to throttle."""
import argparse
import datetime
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKEN = "bench-token"


def median(values):
    return statistics.median(values)


class Sandbox:
    """A `runbook sandbox` process on a free port."""

    def __init__(self, runbook, *extra):
        self.process = subprocess.Popen(
            [runbook, "sandbox", "--token", TOKEN, "--rate-limit", "1000000000", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"bench: the sandbox did not start ({self.url!r})")

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)


class Harness:
    def __init__(self, args):
        self.args = args
        self.runs = args.runs
        self.state = tempfile.mkdtemp(prefix="runbook-bench-")
        self.results = []

    def env(self, sandbox=None, **extra):
        env = dict(os.environ)
        env.update({"XDG_STATE_HOME": self.state + "/state", "XDG_RUNTIME_DIR": self.state + "/run", "DEVREV_TOKEN": TOKEN})
        os.makedirs(self.state + "/run", exist_ok=True)
        if sandbox:
            env["DEVREV_BASE_URL"] = sandbox.url
        env.update(extra)
        return env

    def timed(self, command, env, runs=None):
        """Median wall-clock seconds of `runs` runs (after one warm-up run), and the last output."""
        def once():
            start = time.perf_counter()
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
            elapsed = time.perf_counter() - start
            if done.returncode != 0:
                raise SystemExit(f"bench: {' '.join(command)} exited {done.returncode}:\n{done.stderr[-2000:]}")
            return elapsed, done.stdout
        once()
        samples = [once() for _ in range(runs or self.runs)]
        return median([s[0] for s in samples]), [s[0] for s in samples]

    def wrk(self, url, connections, env):
        """Median requests per second of wrk over `runs` runs of 5 s."""
        rates = []
        for _ in range(self.runs):
            done = subprocess.run(
                ["wrk", "-t1", f"-c{connections}", "-d5s", "-s", os.path.join(HERE, "wrk-post.lua"), url + "/incidents.update"],
                env=env, capture_output=True, text=True, check=True)
            match = re.search(r"Requests/sec:\s+([\d.]+)", done.stdout)
            errors = re.search(r"Non-2xx or 3xx responses: (\d+)", done.stdout)
            if not match or errors:
                raise SystemExit(f"bench: wrk failed:\n{done.stdout}")
            rates.append(float(match.group(1)))
        return median(rates), rates

    def peak_memory(self, command, env):
        """Median peak resident set (MiB), the peaks, median wall time, the last output, and median
        CPU time (user + system, seconds) over `runs` runs.

        GNU time measures the peak: it forks the command from its own small process. A child of
        this Python process would carry Python's peak resident set into the command, even spawned
        with vfork (Linux keeps the larger of the peak before and after exec), so `lua5.4
        noop.lua` would seem to take 15 MiB. The CPU time is the rusage of this process's waited-for
        children, GNU time and the command, in microseconds (GNU time prints 10 ms steps)."""
        peaks, times, cpus = [], [], []
        for _ in range(self.runs):
            with tempfile.NamedTemporaryFile(mode="r") as usage:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                start = time.perf_counter()
                done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", usage.name, *command],
                                      env=env, cwd=ROOT, capture_output=True, text=True)
                times.append(time.perf_counter() - start)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                if done.returncode != 0:
                    raise SystemExit(f"bench: {' '.join(command)} failed: {done.stderr[-2000:]}")
                kilobytes = usage.read().split()[-1]
            peaks.append(int(kilobytes) / 1024)
            cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        return median(peaks), peaks, median(times), done.stdout, median(cpus)

    def record(self, scenario, rows, target, met, note=""):
        self.results.append({"scenario": scenario, "rows": rows, "target": target, "met": met, "note": note})
        print(f"bench: {scenario}: {'met' if met else 'MISSED'} ({target})", file=sys.stderr)


def cold_start(h):
    runbook = [h.args.runbook, "run", "bench/noop.lua"]
    ours, ours_all = h.timed(runbook, h.env(), runs=max(h.runs, 20))
    lua, lua_all = h.timed(["lua5.4", "bench/noop.lua"], h.env(), runs=max(h.runs, 20))
    version, _ = h.timed([h.args.runbook, "version"], h.env(), runs=max(h.runs, 20))
    floor_binary = os.path.join(h.state, "foundation-floor")
    subprocess.run(["swiftc", "-O", os.path.join(HERE, "foundation-floor.swift"), "-o", floor_binary], check=True, capture_output=True)
    floor, _ = h.timed([floor_binary], h.env(), runs=max(h.runs, 20))
    peak, _, _, _, _ = h.peak_memory(runbook, h.env())
    lua_peak, _, _, _, _ = h.peak_memory(["lua5.4", "bench/noop.lua"], h.env())
    h.record("Cold start", [
        ("`runbook run bench/noop.lua`", f"{ours * 1000:.1f} ms, {peak:.1f} MiB peak RSS", ""),
        ("`lua5.4 bench/noop.lua`", f"{lua * 1000:.1f} ms, {lua_peak:.1f} MiB peak RSS", f"runbook costs {ours / lua:.1f}x"),
        ("`runbook version` (process start, no VM, no lock)", f"{version * 1000:.1f} ms", ""),
        ("`bench/foundation-floor.swift` (`swiftc -O`: import Foundation, print)", f"{floor * 1000:.1f} ms",
         "the floor of a Swift program linking Foundation"),
    ], "at most 5x lua5.4, and at most 16 MiB peak RSS", ours <= 5 * lua and peak <= 16,
        f"{len(ours_all)} runs each for the times, {h.runs} for the peak RSS")
    return ours


def one_update(h):
    sandbox = Sandbox(h.args.runbook)
    try:
        env = h.env(sandbox)
        ours, _ = h.timed([h.args.runbook, "run", "bench/one-update.lua"], env)
        sdk, _ = h.timed([sys.executable, os.path.join(HERE, "sdk_one_update.py")], env)
        body = '{"id":"INC-1","title":"Checkout returns 502 for EU customers (benchmarked)"}'
        curl, _ = h.timed(["curl", "-sf", "-o", "/dev/null", "-X", "POST", sandbox.url + "/incidents.update",
                           "-H", "Authorization: Bearer " + TOKEN, "-H", "Content-Type: application/json", "-d", body], env)
    finally:
        sandbox.stop()
    h.record("One update end to end (process start to exit)", [
        ("`runbook run bench/one-update.lua`", f"{ours * 1000:.1f} ms", ""),
        ("Python, devrev-python-sdk 3.2.0 (`bench/sdk_one_update.py`)", f"{sdk * 1000:.1f} ms", f"runbook is {sdk / ours:.1f}x faster"),
        ("`curl -X POST`", f"{curl * 1000:.1f} ms", f"runbook costs {ours / curl:.1f}x curl"),
    ], "at least 20x faster than the Python SDK script", sdk / ours >= 20)


def serial(h, n=2000):
    sandbox = Sandbox(h.args.runbook)
    try:
        env = h.env(sandbox)
        ours, _ = h.timed([h.args.runbook, "run", "bench/serial-updates.lua", "--arg", f"n={n}"], env)
        wrk, _ = h.wrk(sandbox.url, 1, env)
        py, _ = h.timed([sys.executable, os.path.join(HERE, "requests_serial.py"), str(n)], env)
    finally:
        sandbox.stop()
    ours_rate, py_rate = n / ours, n / py
    h.record(f"{n} updates one after the other", [
        ("`runbook run bench/serial-updates.lua` (incident.update in a loop)", f"{ours_rate:.0f} updates/s ({ours:.2f} s)", f"{ours_rate / wrk * 100:.0f} % of wrk -c1"),
        ("`wrk -t1 -c1 -d5s` posting the same request", f"{wrk:.0f} requests/s", "the server's serial limit"),
        ("Python `requests.Session` loop (`bench/requests_serial.py`)", f"{py_rate:.0f} updates/s ({py:.2f} s)", f"runbook reaches {ours_rate / py_rate * 100:.0f} % of it"),
    ], "at least 1.3x the Python loop's rate, and at least 50 % of wrk -c1", ours_rate >= 1.3 * py_rate and ours_rate >= 0.5 * wrk)
    return ours_rate


def concurrent(h, n=2000):
    sandbox = Sandbox(h.args.runbook, "--latency", "20ms")
    try:
        env = h.env(sandbox)
        many, _ = h.timed([h.args.runbook, "run", "bench/many-updates.lua", "--arg", f"n={n}", "--arg", "concurrency=8"], env)
        one, _ = h.timed([h.args.runbook, "run", "bench/many-updates.lua", "--arg", f"n={n}", "--arg", "concurrency=1"], env)
        wrk, _ = h.wrk(sandbox.url, 8, env)
    finally:
        sandbox.stop()
    many_rate, one_rate = n / many, n / one
    h.record(f"{n} updates with 20 ms of server latency", [
        ("`incident.update_many` at concurrency 8", f"{many_rate:.0f} updates/s ({many:.2f} s)", f"{many_rate / one_rate:.1f}x serial"),
        ("the same at concurrency 1 (serial)", f"{one_rate:.0f} updates/s ({one:.2f} s)", ""),
        ("`wrk -t1 -c8 -d5s` posting the same request", f"{wrk:.0f} requests/s", f"runbook reaches {many_rate / wrk * 100:.0f} %"),
    ], "concurrency 8 at least 95 % of wrk -c8", many_rate >= 0.95 * wrk)


def instructions(command, env):
    """Instructions valgrind's callgrind counts for `command`: the same for the same binary and
    inputs, whatever else the machine is doing."""
    with tempfile.TemporaryDirectory() as directory:
        done = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={directory}/callgrind.out", *command],
                              env=env, cwd=ROOT, capture_output=True, text=True)
    match = re.search(r"refs:\s+([\d,]+)", done.stderr)
    if done.returncode != 0 or not match:
        raise SystemExit(f"bench: callgrind of {' '.join(command)} failed:\n{done.stderr[-2000:]}")
    return int(match.group(1).replace(",", ""))


def binding(h, n=100000, counted=10000):
    ours, _ = h.timed([h.args.binding, "bench/binding.lua"], h.env(N=str(n)))
    ours0, _ = h.timed([h.args.binding, "bench/binding.lua"], h.env(N="0"))
    cjson, _ = h.timed(["lua5.4", "bench/binding-cjson.lua"], h.env(N=str(n)))
    cjson0, _ = h.timed(["lua5.4", "bench/binding-cjson.lua"], h.env(N="0"))
    per_ours = (ours - ours0) / n * 1e6
    per_cjson = (cjson - cjson0) / n * 1e6
    # valgrind cannot read the debug information of the static release binary: a copy without it.
    stripped = os.path.join(h.state, "runbook-bench-binding")
    shutil.copy(h.args.binding, stripped)
    subprocess.run(["strip", "--strip-debug", stripped], check=True)
    ours_ir = (instructions([stripped, "bench/binding.lua"], h.env(N=str(counted)))
               - instructions([stripped, "bench/binding.lua"], h.env(N="0"))) / counted
    cjson_ir = (instructions(["lua5.4", "bench/binding-cjson.lua"], h.env(N=str(counted)))
                - instructions(["lua5.4", "bench/binding-cjson.lua"], h.env(N="0"))) / counted
    h.record(f"Binding cost: {n} updates, Lua table to JSON bytes, no network", [
        ("runbook (`runbook-bench-binding bench/binding.lua`: conversion, validation, encoding)",
         f"{ours_ir:,.0f} instructions per update; {per_ours:.2f} µs ({ours:.2f} s)",
         f"{ours_ir / cjson_ir:.2f}x lua-cjson in instructions, {per_ours / per_cjson:.1f}x in time"),
        ("`lua5.4` with lua-cjson (`bench/binding-cjson.lua`: encoding only)",
         f"{cjson_ir:,.0f} instructions per update; {per_cjson:.2f} µs ({cjson:.2f} s)", ""),
    ], "within 2x lua-cjson in instructions", ours_ir <= 2 * cjson_ir,
        f"instructions: callgrind's count for N = {counted} less N = 0, over N; time: the same from wall-clock medians for N = {n}")


def walk(h, n=10000):
    sandbox = Sandbox(h.args.runbook)
    try:
        env = h.env(sandbox)
        import requests
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + TOKEN
        for i in range(n - 12):
            session.post(sandbox.url + "/incidents.create", json={"title": f"bulk incident {i}", "severity": i % 4}).raise_for_status()
        peak, _, seconds, out, cpu = h.peak_memory([h.args.runbook, "run", "bench/walk.lua"], env)
        if out.strip() != str(n):
            raise SystemExit(f"bench: the walk saw {out.strip()} incidents, not {n}")
        noop_peak, _, _, _, _ = h.peak_memory([h.args.runbook, "run", "bench/noop.lua"], env)
        py_peak, _, py_seconds, py_out, py_cpu = h.peak_memory([sys.executable, os.path.join(HERE, "requests_walk.py")], env)
        py_count, page_ms = py_out.split()
        if py_count != str(n):
            raise SystemExit(f"bench: the Python walk saw {py_count} incidents, not {n}")
        page_ms = float(page_ms)
        pages = os.path.join(h.state, "pages")
        os.makedirs(pages, exist_ok=True)
        subprocess.run([sys.executable, os.path.join(HERE, "requests_walk.py"), pages], env=env, check=True, capture_output=True)
        _, _, _, cjson_out, cjson_cpu = h.peak_memory(["lua5.4", "bench/walk-cjson.lua", pages], env)
        if cjson_out.strip() != str(n):
            raise SystemExit(f"bench: lua-cjson decoded {cjson_out.strip()} incidents, not {n}")
    finally:
        sandbox.stop()
    h.record(f"Peak memory walking {n} incidents (pages of 100)", [
        ("`runbook run bench/walk.lua`", f"{peak:.1f} MiB peak RSS ({seconds:.2f} s)", ""),
        ("`runbook run bench/noop.lua` (the floor)", f"{noop_peak:.1f} MiB peak RSS", f"the walk adds {peak - noop_peak:.1f} MiB"),
        ("Python `requests` + `json` loop (`bench/requests_walk.py`)", f"{py_peak:.1f} MiB peak RSS", ""),
    ], "at most 24 MiB", peak <= 24)
    h.record(f"Client CPU walking {n} incidents (pages of 100)", [
        ("`runbook run bench/walk.lua`", f"{cpu:.3f} s CPU ({seconds:.2f} s)", f"{cpu / py_cpu:.2f}x the Python loop"),
        ("Python `requests` + `json` loop (`bench/requests_walk.py`)", f"{py_cpu:.3f} s CPU ({py_seconds:.2f} s)", ""),
        ("`lua5.4` with lua-cjson decoding the same pages from files (`bench/walk-cjson.lua`)", f"{cjson_cpu:.3f} s CPU",
         f"runbook's walk costs {cpu / cjson_cpu:.1f}x"),
    ], "at most the Python requests + json loop's, and at most 3x lua-cjson decoding the pages", cpu <= py_cpu and cpu <= 3 * cjson_cpu)
    h.record("The sandbox answering one page of 100 incidents (of 10000)", [
        ("`runbook sandbox`, `incidents.list` with `limit = 100`, as the Python walk timed it", f"{page_ms:.1f} ms per page (median)", ""),
    ], "within 10 ms", page_ms <= 10)


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        memory = int(handle.readline().split()[1]) // 1024 // 1024
    return f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), {memory} GiB"


def version(command):
    try:
        done = subprocess.run(command, capture_output=True, text=True)
        return (done.stdout or done.stderr).strip().splitlines()[0]
    except (OSError, IndexError):
        return "unknown"


def write(h, path, seconds):
    lines = [
        "# Benchmarks", "",
        f"Written by `{h.args.command}` on {datetime.date.today().isoformat()}; every number below comes from that one run.",
        f"It took {seconds / 60:.1f} minutes. Medians of {h.runs} runs per measurement (cold start: 20) after one warm-up run.", "",
        f"- machine: {machine()}",
        f"- runbook: {version([h.args.runbook, 'version'])}, release build linked with `--static-swift-stdlib`; the sandbox is `runbook sandbox` of the same build, on 127.0.0.1",
        f"- baselines: {version(['lua5.4', '-v'])}; lua-cjson {version(['dpkg-query', '-W', '-f=${Version}', 'lua-cjson'])}; "
        f"{version(['wrk', '-v'])}; {version(['curl', '--version'])}; Python {platform.python_version()} with devrev-python-sdk 3.2.0 and requests",
        "", "| scenario | target | result |", "|---|---|---|",
    ]
    for result in h.results:
        lines.append(f"| {result['scenario']} | {result['target']} | {'met' if result['met'] else '**missed**'} |")
    for result in h.results:
        lines += ["", f"## {result['scenario']}", "", f"Target: {result['target']}: {'met' if result['met'] else '**missed**'}."]
        if result["note"]:
            lines.append(f"({result['note']})")
        lines += ["", "| command | median | compared |", "|---|---|---|"]
        lines += [f"| {name} | {value} | {compare} |" for name, value, compare in result["rows"]]
    notes = os.path.join(HERE, "NOTES.md")
    if os.path.exists(notes):
        lines += ["", open(notes).read().strip()]
    with open(path, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runbook", required=True)
    parser.add_argument("--binding", required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--output", required=True)
    parser.add_argument("--command", default="scripts/bench")
    parser.add_argument("--only", default="")
    args = parser.parse_args()
    h = Harness(args)
    start = time.perf_counter()
    try:
        for name, scenario in [("cold", cold_start), ("one", one_update), ("serial", serial), ("concurrent", concurrent),
                               ("binding", binding), ("walk", walk)]:
            if not args.only or name in args.only.split(","):
                scenario(h)
    finally:
        shutil.rmtree(h.state, ignore_errors=True)
    write(h, args.output, time.perf_counter() - start)
    print(f"bench: wrote {args.output}", file=sys.stderr)


main()
