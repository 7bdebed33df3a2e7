"""Cyclone DDS Python side of Twin's interop test.

usage: interop.py pub|sub|garbage DOMAIN COUNT
pub writes COUNT keyed `test::Reading` samples on `twin/test/interop`;
sub prints every received sample as a JSON line until COUNT arrived;
garbage first writes samples of two impostor types under the same type and
topic names (one cut short, one whose string length is 4 GB), each from its
own participant, then COUNT good samples as pub does.
"""
import json
import sys
import time
from dataclasses import dataclass

import cyclonedds.idl.types as t
from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlStruct
from cyclonedds.idl.annotations import key
from cyclonedds.pub import DataWriter
from cyclonedds.sub import DataReader
from cyclonedds.topic import Topic
from cyclonedds.util import duration


@dataclass
class Reading(IdlStruct, typename="test::Reading"):
    id: t.uint32
    key("id")
    name: str
    value: t.float64
    tags: t.sequence[str]
    seq: t.uint64


@dataclass
class Short(IdlStruct, typename="test::Reading"):
    id: t.uint32
    key("id")


@dataclass
class BadLength(IdlStruct, typename="test::Reading"):
    id: t.uint32
    key("id")
    name_len: t.uint32
    rest: t.uint64


def impostors(domain, qos):
    """Writes 5 samples of each impostor type; returns once written."""
    for ty, make in ((Short, lambda i: Short(id=i)),
                     (BadLength, lambda i: BadLength(id=i, name_len=0xFFFFFFF0, rest=i))):
        dp = DomainParticipant(domain)
        w = DataWriter(dp, Topic(dp, "twin/test/interop", ty), qos=qos)
        deadline = time.time() + 20
        while w.get_matched_subscriptions() == [] and time.time() < deadline:
            time.sleep(0.05)
        for i in range(5):
            w.write(make(i))
        time.sleep(0.5)


def main():
    mode, domain, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    dp = DomainParticipant(domain)
    topic = Topic(dp, "twin/test/interop", Reading)
    qos = Qos(Policy.Reliability.Reliable(duration(seconds=1)), Policy.History.KeepAll,
              Policy.Durability.TransientLocal)
    if mode == "garbage":
        impostors(domain, qos)
    if mode in ("pub", "garbage"):
        w = DataWriter(dp, topic, qos=qos)
        deadline = time.time() + 20
        while w.get_matched_subscriptions() == [] and time.time() < deadline:
            time.sleep(0.05)
        for i in range(count):
            w.write(Reading(id=i % 3, name=f"py-{i}", value=i * 0.5, tags=["a", str(i)], seq=i))
        time.sleep(2)
    else:
        r = DataReader(dp, topic, qos=qos)
        got = 0
        deadline = time.time() + 30
        while got < count and time.time() < deadline:
            for s in r.take(N=100):
                if s is None or not hasattr(s, "seq"):
                    continue
                print(json.dumps({"id": s.id, "name": s.name, "value": s.value,
                                  "tags": list(s.tags), "seq": s.seq}), flush=True)
                got += 1
            time.sleep(0.01)
        sys.exit(0 if got >= count else 3)


main()
