"""A federation member written with Cyclone DDS's Python binding only.

usage: py_member.py DOMAIN NAME DT_NS
Joins the running Twin federation on DOMAIN as stepped member NAME (step
DT_NS), answers every time grant with a completion, prints each granted time
as a JSON line and leaves when the controller announces the end. Types follow
Twin's IDL (idl/twin_federation_Report.idl, twin_time_Grant.idl,
twin_control_State.idl).
"""
import json
import sys
import time
from dataclasses import dataclass

import cyclonedds.idl.types as t
from cyclonedds.core import Policy, Qos
from cyclonedds.domain import DomainParticipant
from cyclonedds.idl import IdlEnum, IdlStruct, IdlUnion
from cyclonedds.idl.annotations import key
from cyclonedds.pub import DataWriter, Publisher
from cyclonedds.sub import DataReader, Subscriber
from cyclonedds.topic import Topic
from cyclonedds.util import duration


@dataclass
class TimeMode_Stepped(IdlStruct, typename="twin::federation::TimeMode_Stepped"):
    dt: t.uint64


@dataclass
class TimeMode_Event(IdlStruct, typename="twin::federation::TimeMode_Event"):
    lookahead: t.uint64


class TimeMode(IdlUnion, discriminator=t.uint32, typename="twin::federation::TimeMode"):
    stepped: t.case[0, TimeMode_Stepped]
    event: t.case[1, TimeMode_Event]


@dataclass
class ReportValue_Join(IdlStruct, typename="twin::federation::ReportValue_Join"):
    mode: TimeMode


def written_type(module):
    """The watermark struct as declared in each topic type's own IDL module."""
    @dataclass
    class Written(IdlStruct, typename=f"twin::{module}::Written"):
        member: str
        topic: str
        count: t.uint64
        initial: bool
        held: t.uint64
    return Written


ReportWritten = written_type("federation")
GrantWritten = written_type("time")
StateWritten = written_type("control")


@dataclass
class ReportValue_Completed(IdlStruct, typename="twin::federation::ReportValue_Completed"):
    granted: t.uint64
    next: t.uint64
    published_min: t.sequence[t.uint64, 1]


class ReportValue(IdlUnion, discriminator=t.uint32, typename="twin::federation::ReportValue"):
    join: t.case[0, ReportValue_Join]
    completed: t.case[2, ReportValue_Completed]


@dataclass
class Report(IdlStruct, typename="twin::federation::Report"):
    member: str
    key("member")
    report: ReportValue
    written: t.sequence[ReportWritten]


@dataclass
class Grant(IdlStruct, typename="twin::time::Grant"):
    member: str
    key("member")
    time: t.uint64
    round: t.uint64
    after: t.sequence[GrantWritten]


class FedState(IdlEnum, typename="twin::control::FedState"):
    Initialise = 0
    Running = 1
    Frozen = 2
    Ended = 3


@dataclass
class State(IdlStruct, typename="twin::control::State"):
    federation: str
    state: FedState
    time: t.uint64
    end: t.uint64
    written: t.sequence[StateWritten]


def main():
    domain, name, dt = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    dp = DomainParticipant(domain)
    reliable = Policy.Reliability.Reliable(duration(seconds=5))
    reports = DataWriter(dp, Topic(dp, "twin/federation/report", Report),
                         qos=Qos(reliable, Policy.History.KeepAll))
    grants = DataReader(Subscriber(dp, qos=Qos(Policy.Partition([f"member/{name}"]))),
                        Topic(dp, "twin/time/grant", Grant),
                        qos=Qos(reliable, Policy.History.KeepAll, Policy.Durability.TransientLocal))
    states = DataReader(dp, Topic(dp, "twin/control/state", State),
                        qos=Qos(reliable, Policy.History.KeepAll, Policy.Durability.TransientLocal))
    end = time.time() + 60
    while not reports.get_matched_subscriptions() and time.time() < end:
        time.sleep(0.01)
    reports.write(Report(member=name, report=ReportValue(
        join=ReportValue_Join(mode=TimeMode(stepped=TimeMode_Stepped(dt=dt)))), written=[]))
    reports.write(Report(member=name, report=ReportValue(discriminator=1, value=None), written=[]))  # Ready
    ended = False
    while not ended and time.time() < end:
        for s in states.take(N=64):
            if getattr(s, "state", None) == FedState.Ended:
                ended = True
        for g in grants.take(N=64):
            if not hasattr(g, "time"):
                continue
            print(json.dumps({"granted": g.time, "round": g.round}), flush=True)
            reports.write(Report(member=name, report=ReportValue(completed=ReportValue_Completed(
                granted=g.time, next=g.time + dt, published_min=[])), written=[]))
        time.sleep(0.002)
    reports.write(Report(member=name, report=ReportValue(discriminator=3, value=None), written=[]))  # Leave
    time.sleep(0.5)
    sys.exit(0 if ended else 4)


main()
