"""A real consumer-group member for the integration tests (confluent-kafka, i.e. librdkafka).

usage: group_member.py BOOTSTRAP TOPIC GROUP COUNT
Produces COUNT records to TOPIC, joins GROUP, consumes them all, commits synchronously, prints
"ready" and keeps polling (staying in the group) until stdin closes.
"""
import sys
import threading
import time

from confluent_kafka import Consumer, Producer

bootstrap, topic, group, count = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

p = Producer({"bootstrap.servers": bootstrap})
for i in range(count):
    p.produce(topic, key=b"k%d" % i, value=b"v%d" % i)
    p.flush(10)  # one record per batch: tansu's end offset is wrong for multi-record batches

c = Consumer({
    "bootstrap.servers": bootstrap,
    "group.id": group,
    "client.id": "burrow-test-member",
    "auto.offset.reset": "earliest",
    "enable.auto.commit": False,
})
c.subscribe([topic])
seen = 0
deadline = time.time() + 60
while seen < count and time.time() < deadline:
    m = c.poll(0.5)
    if m is not None and not m.error():
        seen += 1
if seen < count:
    print("consumed only %d of %d" % (seen, count), flush=True)
    sys.exit(1)
c.commit(asynchronous=False)
print("ready", flush=True)

done = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
while not done.is_set():
    c.poll(0.2)
c.close()
