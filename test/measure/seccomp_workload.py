"""The workload from which the seccomp allow-list was measured (docs/security.md 3.8).

Not a test: run it under strace, on the host with the sandbox's python_bin,
    strace -f -qq -o trace.txt /opt/codejail-service/sandbox-venv/bin/python seccomp_workload.py
or inside the sandbox as a payload's code (larger limits, e.g. CPU 60,
REALTIME 120, VMEM 2 GiB, FSIZE 16 MiB, memory_limit_bytes 3 GiB),
    strace -f -qq -o trace.txt codejail-run --config big-limits.yaml payload.json
then list the calls with test/measure/sandboxed_syscalls.py trace.txt. Under
the filter it must end with the global workload_done = True.
"""
import io, os, sys, time, random, tempfile, threading, json, math, fractions, decimal, hashlib, zipfile, gzip, bz2, lzma, sqlite3, re, struct, pickle, subprocess, socket, signal, select, mmap, resource, locale, datetime, csv, collections, itertools, functools, concurrent.futures, queue, ctypes, platform, shutil, glob
import random2, six
import numpy as np
a = np.random.default_rng(1).random((200, 200))
np.linalg.inv(a); np.linalg.eig(a[:50,:50]); np.linalg.svd(a[:60,:60]); np.fft.fft(a[0]); a @ a
np.random.seed(3); np.random.rand(10); np.save(io.BytesIO(), a)
import scipy, scipy.optimize, scipy.integrate, scipy.stats, scipy.linalg, scipy.sparse, scipy.special, scipy.interpolate, scipy.signal
scipy.optimize.minimize(lambda x: (x[0]-1)**2 + (x[1]-2)**2, [0, 0]); scipy.optimize.brentq(lambda x: x*x-2, 0, 2)
scipy.integrate.quad(math.sin, 0, 3); scipy.integrate.solve_ivp(lambda t, y: -y, (0, 1), [1.0])
scipy.stats.norm.cdf(1.0); scipy.stats.ttest_ind([1,2,3,4], [2,3,4,5]); scipy.linalg.expm(a[:10,:10])
import sympy, mpmath
x = sympy.Symbol('x'); sympy.solve(x**2 - 2, x); sympy.simplify(sympy.sin(x)**2 + sympy.cos(x)**2); sympy.integrate(x*sympy.exp(x), x); sympy.latex(x**2)
sympy.sympify("x**2 + 3*x").subs(x, 2); mpmath.mp.dps = 30; mpmath.pi * 2
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
fig, ax = plt.subplots(); ax.plot([1, 2, 3], [3, 1, 2]); ax.set_title('t'); ax.text(1, 1, 'hello')
b = io.BytesIO(); fig.savefig(b, format='png'); fig.savefig(io.BytesIO(), format='svg'); fig.savefig(io.BytesIO(), format='pdf'); plt.close(fig)
import networkx as nx
g = nx.petersen_graph(); nx.shortest_path(g, 0, 5)
import nltk
from nltk.tokenize import wordpunct_tokenize, TreebankWordTokenizer
wordpunct_tokenize("Hello, world. This is a test."); TreebankWordTokenizer().tokenize("Don't stop.")
from nltk.stem import PorterStemmer; PorterStemmer().stem("running")
try:
    nltk.word_tokenize("Hello there.")
except LookupError:
    pass
import lxml.etree, lxml.html, lxml.html.clean
t = lxml.etree.fromstring(b"<a><b x='1'>t</b></a>"); t.xpath('//b/@x'); lxml.etree.tostring(t)
lxml.html.clean.clean_html("<p onclick='x'>hi<script>1</script></p>"); lxml.html.fromstring("<div><p>x</p></div>")
import pyparsing
pyparsing.Word(pyparsing.alphas).parseString("abc")
import cryptography
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
k = Fernet.generate_key(); f = Fernet(k); f.decrypt(f.encrypt(b"x"))
h = hashes.Hash(hashes.SHA256()); h.update(b"x"); h.finalize()
from PIL import Image
im = Image.new('RGB', (20, 20)); im.save(io.BytesIO(), 'PNG'); im.save(io.BytesIO(), 'JPEG')
# stdlib
hashlib.sha256(b'x').hexdigest(); os.urandom(16); random.SystemRandom().random(); random.random()
time.time(); time.monotonic(); time.process_time(); time.perf_counter(); time.sleep(0.01); time.localtime(); time.strftime('%c')
os.cpu_count(); os.sched_getaffinity(0); os.getpid(); os.getppid(); os.getuid(); os.getcwd(); os.listdir('.'); os.environ.get('HOME')
resource.getrusage(resource.RUSAGE_SELF); resource.getrlimit(resource.RLIMIT_AS); os.times(); os.uname()
with tempfile.TemporaryDirectory(dir='tmp' if os.path.isdir('tmp') else None) as d:
    p = os.path.join(d, 'f.txt')
    with open(p, 'w') as fh: fh.write('x' * 1000)
    with open(p) as fh: fh.read()
    os.stat(p); os.rename(p, p + '2'); os.chmod(p + '2', 0o600); os.utime(p + '2'); os.symlink(p + '2', p + 'l'); os.readlink(p + 'l'); os.link(p + '2', p + 'h'); os.truncate(p + '2', 10)
    os.mkdir(os.path.join(d, 'sub')); shutil.copy(p + '2', os.path.join(d, 'sub', 'c')); shutil.rmtree(os.path.join(d, 'sub'))
    with zipfile.ZipFile(os.path.join(d, 'z.zip'), 'w') as z: z.writestr('a', 'b')
    con = sqlite3.connect(os.path.join(d, 'db.sqlite')); con.execute('create table t(a)'); con.execute('insert into t values (1)'); con.commit(); con.close()
    fd = os.open(os.path.join(d, 'm'), os.O_RDWR | os.O_CREAT); os.ftruncate(fd, 4096); mm = mmap.mmap(fd, 4096); mm[0:1] = b'a'; mm.flush(); mm.close(); os.fsync(fd); os.close(fd)
    glob.glob(os.path.join(d, '*')); list(os.scandir(d)); os.walk(d)
    import fcntl; fd = os.open(os.path.join(d, 'lk'), os.O_RDWR | os.O_CREAT); fcntl.flock(fd, fcntl.LOCK_EX); fcntl.lockf(fd, fcntl.LOCK_UN); os.close(fd)
tempfile.mkstemp(); tempfile.TemporaryFile().write(b'x'); tempfile.NamedTemporaryFile().write(b'x')
gzip.compress(b'x'*100); bz2.compress(b'x'*100); lzma.compress(b'x'*100); zipfile.ZipFile(io.BytesIO(), 'w').close()
def w(n): return sum(range(n))
ts = [threading.Thread(target=w, args=(10000,)) for _ in range(4)]; [t.start() for t in ts]; [t.join() for t in ts]
ev = threading.Event(); threading.Timer(0.01, ev.set).start(); ev.wait(1); lock = threading.Lock(); cond = threading.Condition(); 
with concurrent.futures.ThreadPoolExecutor(2) as ex: list(ex.map(w, [10, 20]))
q = queue.Queue(); q.put(1); q.get(timeout=1)
pid = os.fork()
if pid == 0: os._exit(3)
os.waitpid(pid, 0)
r, wfd = os.pipe(); os.write(wfd, b'x'); os.read(r, 1); os.close(r); os.close(wfd)
s1, s2 = socket.socketpair(); s1.send(b'x'); s2.recv(1); select.select([s1], [], [], 0); s1.close(); s2.close()
import selectors; sel = selectors.DefaultSelector(); sel.close()
signal.signal(signal.SIGALRM, lambda *a: None); signal.setitimer(signal.ITIMER_REAL, 0.01); time.sleep(0.05); signal.alarm(0)
import faulthandler; faulthandler.enable()
try:
    subprocess.run(['true'])
except OSError:
    pass
import multiprocessing
try:
    with multiprocessing.Pool(2) as pool: pool.map(abs, [1, -2])
except Exception:
    pass
try:
    from multiprocessing import shared_memory
    sm = shared_memory.SharedMemory(create=True, size=100); sm.close(); sm.unlink()
except Exception:
    pass
import asyncio
async def co(): await asyncio.sleep(0.01); return 1
asyncio.run(co())
locale.setlocale(locale.LC_ALL, ''); datetime.datetime.now().astimezone(); platform.platform()
import unittest, doctest, inspect, traceback, gc, weakref, copy, textwrap, string, statistics, heapq, bisect, array, uuid
uuid.uuid4(); uuid.uuid1(); statistics.mean([1,2]); gc.collect()
import ssl, urllib.request, http.client, email, xml.dom.minidom, html.parser, unicodedata, cmath, decimal
try:
    urllib.request.urlopen('http://127.0.0.1:9/', timeout=0.1)
except Exception:
    pass
try:
    socket.getaddrinfo('example.invalid', 80)
except Exception:
    pass

big = bytearray()
for i in range(64): big += b'x' * (1 << 20)
del big
arr = np.zeros(10); arr.resize(10_000_000, refcheck=False); del arr
try: os.get_terminal_size()
except OSError: pass
sys.__stdout__.isatty()
workload_done = True
