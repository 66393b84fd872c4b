"""wrk (one thread per target, keep-alive) with generated Lua: each run writes its latency
histogram (wrk's, in microseconds) and its count of wrong answers to a file, so runs
against several servers at once merge into exact percentiles."""
import os
import subprocess

from benchlib import cpu_seconds
from cluster import b64, pdeathsig

VALUE = "v" * 64
PUT_KEYS = 100_000  # PUTs go to a random key of this many

# Lua for base64 of zero-padded decimal numbers without a base64 encoder: a key is a
# 9-character prefix then 3-digit groups, so each group is exactly 4 base64 characters.
_B64_GROUPS = "{" + ",".join(f'[{n}]="{b64(f"{n:03d}")}"' for n in range(1000)) + "}"

_COMMON = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
bad = 0
first_bad = ""
function response(status, headers, body)
  if not answer_ok(status, body) then
    bad = bad + 1
    if first_bad == "" then first_bad = status .. " " .. string.sub(body or "", 1, 200) end
  end
end
function done(summary, latency, requests)
  local nbad, fb = 0, ""
  for _, t in ipairs(threads) do
    nbad = nbad + t:get("bad")
    local x = t:get("first_bad")
    if x ~= "" then fb = x end
  end
  local f = io.open(OUT, "w")
  local e = summary.errors
  f:write(string.format("requests %d\nduration_us %d\nbad %d\nsocket_errors %d\ntimeouts %d\n",
    summary.requests, summary.duration, nbad, e.connect + e.read + e.write, e.timeout))
  f:write("first_bad " .. string.gsub(fb, "[\r\n]", " ") .. "\n")
  for i = 1, #latency do
    local v, c = latency(i)
    f:write(v, " ", c, "\n")
  end
  f:close()
end
"""


def lua_script(kind, prefix="", seed=1):
    """kind: cairn_put | etcd_put | etcd_gput | cairn_txn | etcd_txn | get:<path> | etcd_range:<key>:<serializable>.
    prefix: 9 characters that make this run's txn keys its own (they must not exist yet)."""
    assert len(prefix) in (0, 9)
    head = f'OUT = ""\nmath.randomseed({seed})\nG = {_B64_GROUPS}\n'
    value_b64 = b64(VALUE)
    if kind == "cairn_put":
        body = f"""
local value = "{VALUE}"
request = function()
  local k = math.random(0, {PUT_KEYS - 1})
  return wrk.format("PUT", string.format("/v1/kv/benchput/%06d", k), nil, value)
end
function answer_ok(status, body) return status == 200 and body == "true" end
"""
    elif kind == "etcd_put":
        body = f"""
local pre = '{{"key":"{b64("benchput/")}'
local post = '","value":"{value_b64}"}}'
local headers = {{["Content-Type"] = "application/json"}}
request = function()
  local k = math.random(0, {PUT_KEYS - 1})
  return wrk.format("POST", "/v3/kv/put", headers, pre .. G[math.floor(k / 1000)] .. G[k % 1000] .. post)
end
function answer_ok(status, body) return status == 200 end
"""
    elif kind == "etcd_gput":
        # What cairn's writer sends for one KV PUT, approximately: a transaction with one
        # mod_revision compare on the key (always true here) and one put of cairn's row,
        # {"Value":"<base64>"} (~100 B).
        row = b64('{"Value":"' + b64(VALUE) + '"}')
        body = f"""
local pre = '{{"compare":[{{"key":"{b64("benchput/")}'
local mid = '","target":"MOD","result":"LESS","mod_revision":"9223372036854775807"}}],"success":[{{"request_put":{{"key":"{b64("benchput/")}'
local post = '","value":"{row}"}}}}]}}'
local headers = {{["Content-Type"] = "application/json"}}
request = function()
  local k = math.random(0, {PUT_KEYS - 1})
  local kb = G[math.floor(k / 1000)] .. G[k % 1000]
  return wrk.format("POST", "/v3/kv/txn", headers, pre .. kb .. mid .. kb .. post)
end
function answer_ok(status, body) return status == 200 and string.find(body, '"succeeded":true', 1, true) ~= nil end
"""
    elif kind == "cairn_txn":
        body = f"""
local n = 0
local headers = {{["Content-Type"] = "application/json"}}
request = function()
  local parts = {{}}
  for j = 0, 2 do
    parts[#parts + 1] = string.format('{{"KV":{{"Verb":"set","Key":"{prefix}%09d/k%d","Value":"{value_b64}"}}}}', n, j)
  end
  n = n + 1
  return wrk.format("PUT", "/v1/txn", headers, "[" .. table.concat(parts, ",") .. "]")
end
function answer_ok(status, body) return status == 200 end
"""
    elif kind == "etcd_txn":
        # Fresh keys, each guarded by mod_revision == 0: the guard cairn's writer sends for
        # a key it does not hold yet, so both sides evaluate three compares and three puts.
        body = f"""
local n = 0
local prefix = "{b64(prefix)}"
local suffix = {{[0] = "{b64("/k0")}", "{b64("/k1")}", "{b64("/k2")}"}}
local headers = {{["Content-Type"] = "application/json"}}
request = function()
  local key = prefix .. G[math.floor(n / 1000000)] .. G[math.floor(n / 1000) % 1000] .. G[n % 1000]
  n = n + 1
  local cmp, put = {{}}, {{}}
  for j = 0, 2 do
    local k = key .. suffix[j]
    cmp[#cmp + 1] = '{{"key":"' .. k .. '","target":"MOD","result":"EQUAL","mod_revision":"0"}}'
    put[#put + 1] = '{{"request_put":{{"key":"' .. k .. '","value":"{value_b64}"}}}}'
  end
  return wrk.format("POST", "/v3/kv/txn", headers,
    '{{"compare":[' .. table.concat(cmp, ",") .. '],"success":[' .. table.concat(put, ",") .. ']}}')
end
function answer_ok(status, body) return status == 200 and string.find(body, '"succeeded":true', 1, true) ~= nil end
"""
    elif kind.startswith("get:"):
        body = f"""
wrk.method = "GET"
wrk.path = "{kind[4:]}"
function answer_ok(status, body) return status == 200 end
"""
    elif kind.startswith("etcd_range:"):
        _, key, serializable = kind.split(":")
        body = f"""
wrk.method = "POST"
wrk.path = "/v3/kv/range"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{{"key":"{b64(key)}","serializable":{serializable}}}'
function answer_ok(status, body) return status == 200 and string.find(body, '"kvs"', 1, true) ~= nil end
"""
    else:
        raise ValueError(kind)
    return head + body + _COMMON


class Result:
    def __init__(self):
        self.requests = 0
        self.seconds = 0.0  # summed over sequential segments; concurrent runs share time
        self.bad = 0
        self.socket_errors = 0
        self.timeouts = 0
        self.first_bad = ""
        self.hist = {}
        self.server_cpu = {}  # label -> CPU seconds used by those processes during the run
        self.client_cpu = 0.0

    @property
    def ops(self):
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile_ms(self, p):
        total = sum(self.hist.values())
        if not total:
            return float("nan")
        rank = max(1, round(p / 100.0 * total + 0.5))
        acc = 0
        for v in sorted(self.hist):
            acc += self.hist[v]
            if acc >= rank:
                return v / 1000.0
        return max(self.hist) / 1000.0

    def merge_file(self, path):
        """Adds one wrk run's output; returns its duration in seconds."""
        duration = 0.0
        with open(path) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition(" ")
                if k == "requests":
                    self.requests += int(v)
                elif k == "bad":
                    self.bad += int(v)
                elif k == "socket_errors":
                    self.socket_errors += int(v)
                elif k == "timeouts":
                    self.timeouts += int(v)
                elif k == "first_bad":
                    self.first_bad = self.first_bad or v.strip()
                elif k == "duration_us":
                    duration = int(v) / 1e6
                else:
                    self.hist[int(k)] = self.hist.get(int(k), 0) + int(v)
        return duration


def _cpu(pid_groups):
    out = {}
    for label, pids in pid_groups.items():
        total = 0.0
        for p in pids:
            try:
                total += cpu_seconds(p)
            except (FileNotFoundError, ProcessLookupError):
                pass
        out[label] = total
    return out


def run_concurrent(work, targets, seconds, pid_groups, tag):
    """targets: [(url, connections, lua_text)], all at once, one wrk thread each."""
    res = Result()
    procs = []
    before = _cpu(pid_groups)
    for n, (url, conns, lua) in enumerate(targets):
        out = os.path.join(work, f"wrk-{tag}-{n}.out")
        script = os.path.join(work, f"wrk-{tag}-{n}.lua")
        with open(script, "w") as f:
            f.write(lua.replace('OUT = ""', f'OUT = "{out}"'))
        p = subprocess.Popen(pdeathsig(["wrk", "-t1", f"-c{conns}", f"-d{seconds}s",
                                        "--timeout", "10s", "-s", script, url]),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        procs.append((p, out))
    for p, out in procs:
        text = p.communicate()[0]
        if p.returncode != 0:
            raise RuntimeError(f"wrk failed: {text}")
        res.seconds = max(res.seconds, res.merge_file(out))
    res.server_cpu = {k: v - before[k] for k, v in _cpu(pid_groups).items()}
    return res


def run(work, targets, seconds, pid_groups, tag, sequential=False):
    """Runs targets at once, or (sequential=True) one after another with seconds/len each,
    which is how one connection is spread over the servers. Client CPU comes from
    the wrk processes' rusage."""
    start_ru = os.times()
    if not sequential:
        res = run_concurrent(work, targets, seconds, pid_groups, tag)
    else:
        res = Result()
        share = max(1, round(seconds / len(targets)))
        for n, t in enumerate(targets):
            r = run_concurrent(work, [t], share, pid_groups, f"{tag}-seq{n}")
            res.requests += r.requests
            res.seconds += r.seconds
            res.bad += r.bad
            res.socket_errors += r.socket_errors
            res.timeouts += r.timeouts
            res.first_bad = res.first_bad or r.first_bad
            for k, v in r.hist.items():
                res.hist[k] = res.hist.get(k, 0) + v
            for k, v in r.server_cpu.items():
                res.server_cpu[k] = res.server_cpu.get(k, 0.0) + v
    end_ru = os.times()
    res.client_cpu = (end_ru.children_user - start_ru.children_user) + \
                     (end_ru.children_system - start_ru.children_system)
    return res
