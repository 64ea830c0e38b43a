# tests/corpus/threads.py - CPython's threading under a tracer: a pool of
# workers fed through a queue, a shared counter behind a lock, a
# condition variable with timed waits, an event, a barrier and a
# semaphore.  Prints the same lines on every run.
import queue
import threading
from concurrent.futures import ThreadPoolExecutor

WORKERS = 4
ITEMS = 2000

jobs = queue.Queue(maxsize=16)
results = queue.Queue()
lock = threading.Lock()
total = 0


def worker():
    global total
    while True:
        item = jobs.get()
        if item is None:
            return
        value = sum(i * i for i in range(item % 50))
        with lock:
            total += value
        results.put(value)


threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
for t in threads:
    t.start()
for i in range(ITEMS):
    jobs.put(i)
for _ in threads:
    jobs.put(None)
for t in threads:
    t.join()
print("queue total", total, "results", results.qsize())

# A producer and a consumer on a condition, the consumer waiting with a
# timeout each time.
cond = threading.Condition()
box = []
done = threading.Event()


def consumer():
    taken = 0
    while taken < 500:
        with cond:
            while not box:
                cond.wait(timeout=1.0)
            box.pop()
            taken += 1
    done.set()


c = threading.Thread(target=consumer)
c.start()
for i in range(500):
    with cond:
        box.append(i)
        cond.notify()
done.wait(timeout=30)
c.join()
print("condition consumed", 500 - len(box), "event", done.is_set())

barrier = threading.Barrier(3)
sem = threading.BoundedSemaphore(2)
rounds = []


def rounder(n):
    for r in range(20):
        with sem:
            with lock:
                rounds.append((r, n))
        barrier.wait()


rs = [threading.Thread(target=rounder, args=(n,)) for n in range(3)]
for t in rs:
    t.start()
for t in rs:
    t.join()
print("barrier rounds", len(rounds), sorted(rounds)[:3])

with ThreadPoolExecutor(max_workers=3) as pool:
    squares = list(pool.map(lambda x: x * x, range(300)))
print("pool", sum(squares))
