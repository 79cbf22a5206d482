#!/usr/bin/env python3
"""Memory and time of one credential list page at the largest sizes API.md §12 allows.

Creates N JWT credentials whose jwt_payload and metadata are each 64 KiB of the JSON shape
that takes the most memory once parsed (an array of 32,760 zeros), then asks for one page of
all of them (per_page=500), then for four such pages at once, and prints the server's peak
RSS after each.

usage: bench/list-memory.py BINARY [N]     (N defaults to 500; run from the repository root)
"""
import json, subprocess, sys, time, urllib.request, os, tempfile, concurrent.futures
bin=sys.argv[1]; n=int(sys.argv[2]) if len(sys.argv) > 2 else 500
d=tempfile.mkdtemp()
KEY="cvk_test_owner_key_0123456789abcdefghijklmnopqrstuv"
env=dict(os.environ, CREDVAULT_DATA_DIR=d, CREDVAULT_BOOTSTRAP_API_KEY=KEY, CREDVAULT_LOG="warn", CREDVAULT_RATE_LIMIT_PER_MINUTE="0")
p=subprocess.Popen([bin,"serve","--listen","127.0.0.1:18999","--data-dir",d],env=env)
base="http://127.0.0.1:18999"
def call(method,path,body=None):
    req=urllib.request.Request(base+path,method=method,data=None if body is None else json.dumps(body).encode(),headers={"Authorization":"Bearer "+KEY,"content-type":"application/json"})
    try:
        with urllib.request.urlopen(req) as r: return r.status, r.read()
    except urllib.error.HTTPError as e: return e.code, e.read()
for _ in range(100):
    try:
        urllib.request.urlopen(base+"/healthz"); break
    except Exception: time.sleep(0.1)
call("POST","/api/v1/teams",{"name":"t"})
key=open("crates/credvault/tests/fixtures/keys/ec-p256-pkcs8.pem").read()
doc={"a":[0]*32760}
print("jwt_payload and metadata:", len(json.dumps(doc,separators=(',',':'))), "bytes each, compact")
def mk(i):
    s,b=call("POST","/api/v1/user_credentials",{"name":f"c{i}","mode":"JWT","team_id":1,"jwt_algorithm":"ES256","jwt_private_key":key,"jwt_payload":doc,"metadata":doc})
    assert s==201,(s,b[:200])
with concurrent.futures.ThreadPoolExecutor(8) as ex: list(ex.map(mk,range(n)))
def hwm():
    kib = next(int(l.split()[1]) for l in open(f"/proc/{p.pid}/status") if l.startswith("VmHWM"))
    return f"server peak RSS {kib // 1024} MiB"
print(f"after {n} creates:", hwm())
t=time.time(); s,b=call("GET","/api/v1/user_credentials?per_page=500"); print(f"one page of {n}: status {s}, {len(b)} bytes in {time.time()-t:.2f} s")
print("after one page:", hwm())
with concurrent.futures.ThreadPoolExecutor(4) as ex: list(ex.map(lambda _: call("GET","/api/v1/user_credentials?per_page=500"), range(4)))
print("after four pages at once:", hwm())
p.kill()
