"""Cyclone DDS Python side of Twin's interop test.

usage: interop.py pub|sub DOMAIN COUNT
pub writes COUNT keyed `test::Reading` samples on `twin/test/interop`;
sub prints every received sample as a JSON line until COUNT arrived.
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


def main():
    mode, domain, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    dp = DomainParticipant(domain)
    topic = Topic(dp, "twin/test/interop", Reading)
    qos = Qos(Policy.Reliability.Reliable(duration(seconds=1)), Policy.History.KeepAll,
              Policy.Durability.TransientLocal)
    if mode == "pub":
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
