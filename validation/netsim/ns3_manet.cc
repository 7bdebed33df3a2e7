// ns-3 side of the netsim validation: the manet-routing-compare-like MANET of
// scenarios/net/manet-ns3.toml, built against the ns3 PyPI wheel (3.44).
//
//   N nodes, 802.11b ad hoc (DSSS 11 Mb/s for data and broadcast, constant
//   rate), YANS channel, Friis loss (its own default 5.15 GHz), speed-of-light
//   delay, 7.5 dBm; random waypoint U(0, 20) m/s, pause 0, 1500 x 300 m;
//   10 CBR UDP flows node(i+10) -> node(i), 4 x 512 B/s, start U(20, 21) s,
//   stop T - 5 s; AODV or OLSR with ns-3 defaults; T = 200 s.
//
// Prints one line "RESULT {json}" with delivery, delay, throughput, routing
// overhead (control packets and bytes sent at the IP layer, every hop
// counted), mean hop count and drop counters by layer, so that differences
// against Twin can be traced to a layer. Build and run: see run_ns3.sh.
#include "ns3/aodv-module.h"
#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/flow-monitor-module.h"
#include "ns3/internet-module.h"
#include "ns3/mobility-module.h"
#include "ns3/network-module.h"
#include "ns3/olsr-module.h"
#include "ns3/llc-snap-header.h"
#include "ns3/wifi-mac.h"
#include "ns3/wifi-mpdu.h"
#include "ns3/yans-wifi-helper.h"

#include <algorithm>
#include <ctime>
#include <sys/resource.h>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

using namespace ns3;

namespace
{
// Read-only access to AODV's private neighbour table (RoutingProtocol::m_nb,
// Neighbors::m_nb), through the explicit-instantiation rule that lets a
// member pointer to a private member be named in an explicit instantiation.
// Used only to classify retry-limit drops the way Neighbors::ProcessTxError
// sees them; nothing is written.
template <typename Tag, typename Tag::type M>
struct Expose
{
    friend typename Tag::type Get(Tag)
    {
        return M;
    }
};

struct RpNbTag
{
    using type = aodv::Neighbors aodv::RoutingProtocol::*;
    friend type Get(RpNbTag);
};

struct NbListTag
{
    using type = std::vector<aodv::Neighbors::Neighbor> aodv::Neighbors::*;
    friend type Get(NbListTag);
};

template struct Expose<RpNbTag, &aodv::RoutingProtocol::m_nb>;
template struct Expose<NbListTag, &aodv::Neighbors::m_nb>;

struct Counters
{
    uint64_t appTx = 0;
    uint64_t ctrlPkts = 0;
    uint64_t ctrlBytes = 0;
    uint64_t dataIpTx = 0;
    uint64_t macTxDrop = 0;
    uint64_t macRxDrop = 0;
    uint64_t phyRxDrop = 0;
    uint64_t arpDrop = 0;
    uint64_t arpRequests = 0;
    uint64_t arpReplies = 0;
    std::map<int, uint64_t> ctrlByType; // first payload byte (AODV: 1 RREQ, 2 RREP/HELLO, 3 RERR)
    uint64_t ctrlBroadcast = 0;
    uint64_t rreqOriginated = 0; // AODV RREQs with hop count 0
    uint64_t rreqToOther = 0;    // ... of them for a node that is no flow's sink
    uint64_t aodvHello = 0;
    std::map<int, uint64_t> loopback; // packets sent to the loopback: 0 data, else AODV type      // AODV RREPs with destination == originator (HELLO)
    std::map<int, uint64_t> droppedMpdu; // WifiMacDropReason -> count (data frames only)
    std::map<std::string, uint64_t> droppedMpduKind; // ... by what they carried
    uint64_t olsrHello = 0;
    uint64_t olsrTcOriginated = 0;
    uint64_t olsrTcForwarded = 0;
    std::map<int, uint64_t> ipDrop; // Ipv4L3Protocol::DropReason -> count
    uint64_t nbSamples = 0;         // node-seconds sampled (--nbsample)
    uint64_t nbUp = 0;              // ... valid one-hop AODV routes summed over them
    uint64_t nbDown = 0;            // ... invalid one-hop AODV routes summed over them
    // Retry-limit drops of frames by what AODV's ProcessTxError can do with
    // them (kind/class): "acts" (a neighbour entry has the frame's receiver
    // address: closed, link failure), "no_mac" (the next hop is in the
    // neighbour table but its MAC address was never learned from ARP),
    // "absent" (not in the neighbour table): the last two are ignored.
    std::map<std::string, uint64_t> txErrClass;
    // Round 6: ARP drops by packet kind and cause, data IP drops by reason.
    std::map<std::string, uint64_t> arpDropBy;
    std::map<int, uint64_t> ipDropData;
    uint64_t lastTxUid = ~uint64_t(0); // the packet whose Tx trace fired last ...
    int64_t lastTxAt = -1;            // ... and when [ns]
    // Retry-limit drop episodes: drops at one node toward one receiver with
    // less than 1 s since the previous such drop belong to one episode.
    uint64_t txErrEpisodes = 0;
    std::map<std::pair<uint32_t, Mac48Address>, double> lastTxErr;
    std::map<std::pair<uint32_t, Mac48Address>, double> episodeStart;
} g;

std::map<Mac48Address, Ipv4Address> g_macToIp;
bool g_txDetail = false; // --txdetail

// The AODV routing protocol of `node`, or null when it runs another one.
Ptr<aodv::RoutingProtocol>
AodvOf(uint32_t node)
{
    Ptr<Ipv4> ip = NodeList::GetNode(node)->GetObject<Ipv4>();
    auto lr = ip ? DynamicCast<Ipv4ListRouting>(ip->GetRoutingProtocol()) : nullptr;
    for (uint32_t k = 0; lr && k < lr->GetNRoutingProtocols(); ++k)
    {
        int16_t prio;
        if (auto a = DynamicCast<aodv::RoutingProtocol>(lr->GetRoutingProtocol(k, prio)))
        {
            return a;
        }
    }
    return nullptr;
}

// The rows of `node`'s AODV routing table as PrintRoutingTable shows them
// (it purges a copy first), split into their six fields: destination,
// gateway, interface, state, expiry, hops. Empty when AODV does not run.
std::vector<std::vector<std::string>>
AodvRows(uint32_t node)
{
    std::vector<std::vector<std::string>> rows;
    auto a = AodvOf(node);
    if (!a)
    {
        return rows;
    }
    std::ostringstream os;
    a->PrintRoutingTable(Create<OutputStreamWrapper>(&os), Time::S);
    std::istringstream in(os.str());
    for (std::string line; std::getline(in, line);)
    {
        std::istringstream ls(line);
        std::vector<std::string> tok;
        for (std::string t; ls >> t;)
        {
            tok.push_back(t);
        }
        if (tok.size() == 6)
        {
            rows.push_back(std::move(tok));
        }
    }
    return rows;
}

// With --nbsample: once a second, every node's one-hop AODV routes by state.
// The interface-broadcast and loopback entries ns-3 keeps are left out.
void
SampleNeighbours(NodeContainer nodes, double end)
{
    for (uint32_t i = 0; i < nodes.GetN(); ++i)
    {
        uint32_t id = nodes.Get(i)->GetId();
        if (!AodvOf(id))
        {
            continue;
        }
        for (const auto& tok : AodvRows(id))
        {
            if (tok[5] != "1" || tok[0].rfind("127.", 0) == 0 || tok[0].size() < 4 ||
                tok[0].compare(tok[0].size() - 4, 4, ".255") == 0)
            {
                continue;
            }
            g.nbUp += tok[3] == "UP";
            g.nbDown += tok[3] == "DOWN";
        }
        ++g.nbSamples;
    }
    if (Simulator::Now().GetSeconds() + 1.0 < end)
    {
        Simulator::Schedule(Seconds(1), &SampleNeighbours, nodes, end);
    }
}

uint16_t g_ctrlPort = 654;
uint32_t g_nFlows = 10;

void
AppTx(Ptr<const Packet>)
{
    ++g.appTx;
}

// Every packet sent by an IP layer (originated or forwarded).
void
IpTx(Ptr<const Packet> p, Ptr<Ipv4>, uint32_t iface)
{
    // Ipv4L3Protocol fires Tx just before handing the packet to the
    // interface, whose ARP lookup may drop it at once (see ArpDropCtx).
    g.lastTxUid = p->GetUid();
    g.lastTxAt = Simulator::Now().GetNanoSeconds();
    Ptr<Packet> c = p->Copy();
    Ipv4Header ip;
    c->RemoveHeader(ip);
    if (ip.GetProtocol() != UdpL4Protocol::PROT_NUMBER)
    {
        return;
    }
    UdpHeader udp;
    c->RemoveHeader(udp);
    if (iface == 0)
    {
        // Interface 0 is the loopback: AODV's RouteOutput sends packets
        // without a valid route there until its route discovery ends.
        // Not a transmission; counted apart by kind (data or AODV type).
        uint8_t type = 0;
        if (udp.GetDestinationPort() == g_ctrlPort && c->GetSize() > 0)
        {
            c->CopyData(&type, 1);
        }
        ++g.loopback[udp.GetDestinationPort() == g_ctrlPort ? type : 0];
        return;
    }
    if (udp.GetDestinationPort() == g_ctrlPort)
    {
        ++g.ctrlPkts;
        g.ctrlBytes += p->GetSize();
        uint8_t type = 0;
        if (c->GetSize() > 0)
        {
            c->CopyData(&type, 1);
        }
        ++g.ctrlByType[type];
        uint8_t head[12] = {0};
        if (type == 1 && c->GetSize() >= 12)
        {
            // type, flags, reserved, hop count, id (4), destination (4)
            c->CopyData(head, 12);
            g.rreqOriginated += head[3] == 0;
            // sinks are nodes 0 .. nFlows-1 = 10.1.0.1 .. 10.1.0.nFlows
            g.rreqToOther += head[3] == 0 && !(head[10] == 0 && head[11] >= 1 && head[11] <= g_nFlows);
        }
        uint8_t rrep[16];
        if (type == 2 && c->GetSize() >= 16)
        {
            // type, flags, prefix, hop count, dst (4), dst seq (4), origin (4)
            c->CopyData(rrep, 16);
            g.aodvHello += std::equal(rrep + 4, rrep + 8, rrep + 12);
        }
        if (ip.GetDestination().IsBroadcast() || ip.GetDestination().IsSubnetDirectedBroadcast(Ipv4Mask("255.255.0.0")))
        {
            ++g.ctrlBroadcast;
        }
    }
    else if (udp.GetDestinationPort() == 9)
    {
        ++g.dataIpTx;
    }
}

// Every frame handed to a Wi-Fi MAC (LLC/SNAP header on top): counts ARP.
void
MacTx(Ptr<const Packet> p)
{
    Ptr<Packet> c = p->Copy();
    LlcSnapHeader llc;
    c->RemoveHeader(llc);
    if (llc.GetType() != ArpL3Protocol::PROT_NUMBER)
    {
        return;
    }
    ArpHeader arp;
    c->PeekHeader(arp);
    ++(arp.IsRequest() ? g.arpRequests : g.arpReplies);
}

// OLSR packets as sent (several messages each).
void
OlsrTx(const olsr::PacketHeader&, const olsr::MessageList& msgs)
{
    for (const auto& m : msgs)
    {
        if (m.GetMessageType() == olsr::MessageHeader::HELLO_MESSAGE)
        {
            ++g.olsrHello;
        }
        else if (m.GetMessageType() == olsr::MessageHeader::TC_MESSAGE)
        {
            ++(m.GetHopCount() == 0 ? g.olsrTcOriginated : g.olsrTcForwarded);
        }
    }
}

// One node's AODV routing table: destination -> (gateway, "UP"/"DOWN"/"IN_SEARCH").
std::map<std::string, std::pair<std::string, std::string>>
RouteTable(uint32_t node)
{
    std::map<std::string, std::pair<std::string, std::string>> t;
    for (const auto& tok : AodvRows(node))
    {
        t[tok[0]] = {tok[1], tok[3]};
    }
    return t;
}

std::string
IpStr(Ipv4Address a)
{
    std::ostringstream o;
    o << a;
    return o.str();
}

// How AODV's Neighbors::ProcessTxError (called after this callback, which
// is connected first) will treat a lost frame to `to` at node `node`.
std::string
TxErrClass(uint32_t node, Mac48Address to)
{
    auto a = AodvOf(node);
    if (!a)
    {
        return "not_aodv";
    }
    const auto& nbs = (*a).*Get(RpNbTag());
    const auto& list = nbs.*Get(NbListTag());
    bool present = false;
    auto it = g_macToIp.find(to);
    for (const auto& n : list)
    {
        if (n.m_hardwareAddress == to)
        {
            return "acts";
        }
        present |= it != g_macToIp.end() && n.m_neighborAddress == it->second;
    }
    return present ? "no_mac" : "absent";
}

// MPDUs the Wi-Fi MAC gave up on (retry limit, queue), data frames only.
void
DroppedMpdu(std::string ctx, WifiMacDropReason reason, Ptr<const WifiMpdu> mpdu)
{
    if (mpdu->GetHeader().IsData())
    {
        uint32_t node = std::stoul(ctx.substr(10, ctx.find('/', 10) - 10)); // "/NodeList/N/..."
        Mac48Address to = mpdu->GetHeader().GetAddr1();
        ++g.droppedMpdu[int(reason)];
        // What the frame carried: ARP, AODV (UDP 654), OLSR (698), CBR data (9).
        Ptr<Packet> p = mpdu->GetPacket()->Copy();
        LlcSnapHeader llc;
        p->RemoveHeader(llc);
        std::string kind = "other";
        if (llc.GetType() == 0x0806)
        {
            kind = "arp";
        }
        else if (llc.GetType() == 0x0800)
        {
            Ipv4Header ip;
            p->RemoveHeader(ip);
            UdpHeader udp;
            if (ip.GetProtocol() == 17 && p->PeekHeader(udp))
            {
                uint16_t port = udp.GetDestinationPort();
                kind = port == 654 ? "aodv" : port == 698 ? "olsr" : port == 9 ? "data" : "udp";
            }
        }
        ++g.droppedMpduKind[kind];
        if (g_ctrlPort == 654 && reason == WIFI_MAC_DROP_REACHED_RETRY_LIMIT)
        {
            std::string cls = TxErrClass(node, to);
            ++g.txErrClass[kind + "/" + cls];
            // Distance to the receiver (manet-ns3 range ~138 m): near ones
            // are collisions, far ones departed neighbours. Only with
            // --txdetail: reading a position advances the mobility model's
            // helper, whose floating-point rounding then differs, so the
            // run no longer reproduces the same events.
            std::string dist = "ge150m";
            auto it = g_macToIp.find(to);
            for (uint32_t j = 0; g_txDetail && it != g_macToIp.end() && j < NodeList::GetNNodes(); ++j)
            {
                Ptr<Node> nj = NodeList::GetNode(j);
                if (nj->GetObject<Ipv4>()->GetAddress(1, 0).GetLocal() == it->second)
                {
                    double d = NodeList::GetNode(node)->GetObject<MobilityModel>()->GetDistanceFrom(
                        nj->GetObject<MobilityModel>());
                    dist = d < 100 ? "lt100m" : d < 130 ? "100_130m" : d < 150 ? "130_150m" : "ge150m";
                }
            }
            if (g_txDetail)
            {
                ++g.txErrClass["dist/" + dist];
            }
            double now = Simulator::Now().GetSeconds();
            auto [last, fresh] = g.lastTxErr.try_emplace({node, to}, now);
            // The failing node's view: its entry for the next hop itself (a
            // link failure invalidates nothing without one) and the route of
            // the frame's destination.
            // The same (--txdetail, kept off with the positions so that a
            // default run is exactly the run without counters).
            if (g_txDetail && kind == "data" && it != g_macToIp.end())
            {
                auto table = RouteTable(node);
                Ptr<Packet> q = mpdu->GetPacket()->Copy();
                LlcSnapHeader l;
                q->RemoveHeader(l);
                Ipv4Header h;
                q->RemoveHeader(h);
                std::string nh = IpStr(it->second);
                auto e = table.find(nh);
                auto d = table.find(IpStr(h.GetDestination()));
                bool first = fresh || now - last->second >= 1.0;
                std::string pre = first ? "view_first/" : "view_follow/";
                if (std::getenv("TXERR_LOG"))
                {
                    // ... and the next hop's entry once AODV has handled the
                    // loss (an extra event, so only with the log).
                    Simulator::ScheduleNow([node, nh, pre]() {
                        auto t = RouteTable(node);
                        auto e = t.find(nh);
                        ++g.txErrClass[pre + "after_nexthop_" +
                                       (e == t.end() ? "none" : e->second.second)];
                    });
                    std::cerr << now << " node " << node << " -> " << nh << " dst "
                              << h.GetDestination() << " src " << h.GetSource() << " "
                              << TxErrClass(node, to) << " nh "
                              << (e == table.end() ? "none" : e->second.second) << " dst_route "
                              << (d == table.end() ? "none" : d->second.first + "/" + d->second.second)
                              << " queued " << mpdu->GetTimestamp().GetSeconds() << "\n";
                }
                ++g.txErrClass[pre + "nexthop_" + (e == table.end() ? "none" : e->second.second)];
                ++g.txErrClass[pre + "dst_" +
                               (d == table.end() ? "none"
                                : d->second.first != nh ? "other_gw_" + d->second.second
                                                        : "via_" + d->second.second)];
            }
            if (fresh || now - last->second >= 1.0)
            {
                ++g.txErrEpisodes;
                ++g.txErrClass["first/" + cls];
                if (g_txDetail)
                {
                    ++g.txErrClass["first_dist/" + dist];
                }
                g.episodeStart[{node, to}] = now;
            }
            else
            {
                // A later loss of the same episode: was the frame already
                // queued when the episode's first frame was given up on?
                bool queued = mpdu->GetTimestamp().GetSeconds() < g.episodeStart[{node, to}];
                ++g.txErrClass[std::string(queued ? "follow_queued/" : "follow_later/") + kind];
            }
            last->second = now;
        }
    }
}

void
IpDrop(const Ipv4Header& h, Ptr<const Packet> p, Ipv4L3Protocol::DropReason r, Ptr<Ipv4>, uint32_t)
{
    ++g.ipDrop[int(r)];
    UdpHeader udp;
    if (h.GetProtocol() == UdpL4Protocol::PROT_NUMBER && p->PeekHeader(udp) &&
        udp.GetDestinationPort() == 9)
    {
        ++g.ipDropData[int(r)];
    }
}

void
MacTxDrop(Ptr<const Packet>)
{
    ++g.macTxDrop;
}

void
MacRxDrop(Ptr<const Packet>)
{
    ++g.macRxDrop;
}

void
PhyRxDrop(Ptr<const Packet>, WifiPhyRxfailureReason)
{
    ++g.phyRxDrop;
}

void
ArpDrop(Ptr<const Packet>)
{
    ++g.arpDrop;
}

// ARP drops by what was lost and why (round 6). ns-3's ArpL3Protocol/Drop
// fires for (a) a reply for an entry that is not waiting (an empty packet:
// the ARP header is already removed), (b) a packet looked up while its next
// hop's entry is dead (DeadTimeout) or waiting with a full pending queue,
// synchronously inside the interface's Send, right after Ipv4L3Protocol's Tx
// trace for the same packet, and (c) the pending packets of an entry whose
// retries ran out, from ArpCache's wait-reply timer. (b) is told apart by the
// next hop's entry: AODV's route to the IP destination gives the gateway.
// (c) goes to the ArpCache's own Drop trace, which ArpL3Protocol's does not
// include (so `arp_drop` before round 6 missed it): ArpCacheDrop.
void
ArpDropCtx(std::string ctx, Ptr<const Packet> p)
{
    ArpDrop(p);
    if (p->GetSize() == 0)
    {
        ++g.arpDropBy["arp/reply_ignored"];
        return;
    }
    Ptr<Packet> c = p->Copy();
    Ipv4Header ip;
    c->RemoveHeader(ip);
    std::string kind = "other";
    UdpHeader udp;
    if (ip.GetProtocol() == UdpL4Protocol::PROT_NUMBER && c->PeekHeader(udp))
    {
        uint16_t port = udp.GetDestinationPort();
        kind = port == 9 ? "data" : port == 654 ? "aodv" : port == 698 ? "olsr" : "other";
    }
    std::string cause = "retries";
    if (p->GetUid() == g.lastTxUid && Simulator::Now().GetNanoSeconds() == g.lastTxAt)
    {
        const std::string head = "/NodeList/";
        uint32_t node = std::stoul(ctx.substr(head.size(), ctx.find('/', head.size()) - head.size()));
        Ptr<Node> n = NodeList::GetNode(node);
        std::string dst = IpStr(ip.GetDestination());
        auto t = RouteTable(node);
        auto e = t.find(dst);
        Ipv4Address hop = ip.GetDestination();
        if (e != t.end())
        {
            hop = Ipv4Address(e->second.first.c_str());
        }
        auto l3 = n->GetObject<Ipv4L3Protocol>();
        ArpCache::Entry* entry = nullptr;
        for (uint32_t i = 1; l3 && i < l3->GetNInterfaces() && !entry; ++i)
        {
            Ptr<ArpCache> cache = l3->GetInterface(i)->GetArpCache();
            entry = cache ? cache->Lookup(hop) : nullptr;
        }
        cause = !entry ? "sync_unknown"
                : entry->IsDead() ? "dead"
                : entry->IsWaitReply() ? "queue_full"
                : "sync_other";
    }
    ++g.arpDropBy[kind + "/" + cause];
}

// Pending packets of an entry whose retries ran out (ArpCache/Drop).
void
ArpCacheDrop(Ptr<const Packet> p)
{
    Ptr<Packet> c = p->Copy();
    Ipv4Header ip;
    c->RemoveHeader(ip);
    std::string kind = "other";
    UdpHeader udp;
    if (ip.GetProtocol() == UdpL4Protocol::PROT_NUMBER && c->PeekHeader(udp))
    {
        uint16_t port = udp.GetDestinationPort();
        kind = port == 9 ? "data" : port == 654 ? "aodv" : port == 698 ? "olsr" : "other";
    }
    ++g.arpDropBy[kind + "/cache_retries"];
}
} // namespace

int
main(int argc, char* argv[])
{
    uint32_t nNodes = 50;
    uint32_t nFlows = 10;
    uint32_t pktSize = 512;
    uint32_t seed = 1;
    uint32_t run = 1;
    double simTime = 200;
    double pps = 4;
    double txp = 7.5;
    std::string protocol = "AODV";
    std::string trace; // ns-2 movement file replacing random waypoint
    CommandLine cmd(__FILE__);
    cmd.AddValue("trace", "ns-2 movement file (paired runs with Twin)", trace);
    cmd.AddValue("nodes", "number of nodes", nNodes);
    cmd.AddValue("flows", "number of CBR flows", nFlows);
    cmd.AddValue("time", "simulated seconds", simTime);
    cmd.AddValue("protocol", "AODV or OLSR", protocol);
    cmd.AddValue("txp", "transmit power [dBm]", txp);
    cmd.AddValue("seed", "RngSeedManager seed", seed);
    cmd.AddValue("run", "RngSeedManager run", run);
    bool nbSample = false;
    cmd.AddValue("nbsample", "sample one-hop AODV routes once a second", nbSample);
    cmd.AddValue("txdetail",
                 "classify retry-limit drops by distance and route table (perturbs the run)",
                 g_txDetail);
    cmd.Parse(argc, argv);
    RngSeedManager::SetSeed(seed);
    RngSeedManager::SetRun(run);
    g_ctrlPort = protocol == "OLSR" ? 698 : 654;
    g_nFlows = nFlows;

    const std::string mode = "DsssRate11Mbps";
    Config::SetDefault("ns3::OnOffApplication::PacketSize", UintegerValue(pktSize));
    Config::SetDefault("ns3::OnOffApplication::DataRate",
                       StringValue(std::to_string(uint64_t(pps * pktSize * 8)) + "bps"));
    Config::SetDefault("ns3::WifiRemoteStationManager::NonUnicastMode", StringValue(mode));

    NodeContainer nodes;
    nodes.Create(nNodes);
    WifiHelper wifi;
    wifi.SetStandard(WIFI_STANDARD_80211b);
    wifi.SetRemoteStationManager("ns3::ConstantRateWifiManager",
                                 "DataMode",
                                 StringValue(mode),
                                 "ControlMode",
                                 StringValue(mode));
    YansWifiChannelHelper chan;
    chan.SetPropagationDelay("ns3::ConstantSpeedPropagationDelayModel");
    chan.AddPropagationLoss("ns3::FriisPropagationLossModel");
    YansWifiPhyHelper phy;
    phy.SetChannel(chan.Create());
    phy.Set("TxPowerStart", DoubleValue(txp));
    phy.Set("TxPowerEnd", DoubleValue(txp));
    WifiMacHelper mac;
    mac.SetType("ns3::AdhocWifiMac");
    NetDeviceContainer devs = wifi.Install(phy, mac, nodes);
    // Before the internet stack: this callback then runs before AODV's own
    // (connected when the interfaces come up), so it sees the neighbour
    // table as ProcessTxError finds it.
    Config::Connect("/NodeList/*/DeviceList/*/$ns3::WifiNetDevice/Mac/DroppedMpdu",
                    MakeCallback(&DroppedMpdu));

    auto uni = [](double hi) {
        std::ostringstream s;
        s << "ns3::UniformRandomVariable[Min=0.0|Max=" << hi << "]";
        return StringValue(s.str());
    };
    auto alloc = CreateObject<RandomRectanglePositionAllocator>();
    alloc->SetAttribute("X", uni(1500));
    alloc->SetAttribute("Y", uni(300));
    int64_t stream = alloc->AssignStreams(0);
    MobilityHelper mob;
    if (!trace.empty())
    {
        Ns2MobilityHelper ns2(trace);
        ns2.Install();
    }
    else
    {
    mob.SetMobilityModel("ns3::RandomWaypointMobilityModel",
                         "Speed",
                         uni(20),
                         "Pause",
                         StringValue("ns3::ConstantRandomVariable[Constant=0.0]"),
                         "PositionAllocator",
                         PointerValue(alloc));
    mob.SetPositionAllocator(alloc);
    mob.Install(nodes);
    mob.AssignStreams(nodes, stream + 1);
    }

    Ipv4ListRoutingHelper list;
    AodvHelper aodv;
    OlsrHelper olsr;
    if (protocol == "OLSR")
    {
        list.Add(olsr, 100);
    }
    else
    {
        list.Add(aodv, 100);
    }
    InternetStackHelper internet;
    internet.SetRoutingHelper(list);
    internet.Install(nodes);
    Ipv4AddressHelper addr;
    addr.SetBase("10.1.0.0", "255.255.0.0");
    Ipv4InterfaceContainer ifs = addr.Assign(devs);
    for (uint32_t i = 0; i < devs.GetN(); ++i)
    {
        g_macToIp[Mac48Address::ConvertFrom(devs.Get(i)->GetAddress())] = ifs.GetAddress(i);
    }

    auto startRv = CreateObject<UniformRandomVariable>();
    double offered = 0;
    for (uint32_t i = 0; i < nFlows; ++i)
    {
        PacketSinkHelper sink("ns3::UdpSocketFactory", InetSocketAddress(Ipv4Address::GetAny(), 9));
        sink.Install(nodes.Get(i)).Start(Seconds(0));
        OnOffHelper src("ns3::UdpSocketFactory", InetSocketAddress(ifs.GetAddress(i), 9));
        src.SetAttribute("OnTime", StringValue("ns3::ConstantRandomVariable[Constant=1.0]"));
        src.SetAttribute("OffTime", StringValue("ns3::ConstantRandomVariable[Constant=0.0]"));
        ApplicationContainer app = src.Install(nodes.Get(i + nFlows));
        double t0 = startRv->GetValue(20.0, 21.0);
        offered += (simTime - 5.0 - t0) * pps;
        app.Start(Seconds(t0));
        app.Stop(Seconds(simTime - 5.0));
    }

    Config::ConnectWithoutContext("/NodeList/*/ApplicationList/*/$ns3::OnOffApplication/Tx",
                                  MakeCallback(&AppTx));
    Config::ConnectWithoutContext("/NodeList/*/$ns3::Ipv4L3Protocol/Tx", MakeCallback(&IpTx));
    Config::ConnectWithoutContext("/NodeList/*/$ns3::Ipv4L3Protocol/Drop", MakeCallback(&IpDrop));
    Config::ConnectWithoutContext("/NodeList/*/DeviceList/*/$ns3::WifiNetDevice/Mac/MacTxDrop",
                                  MakeCallback(&MacTxDrop));
    Config::ConnectWithoutContext("/NodeList/*/DeviceList/*/$ns3::WifiNetDevice/Mac/MacRxDrop",
                                  MakeCallback(&MacRxDrop));
    Config::ConnectWithoutContext("/NodeList/*/DeviceList/*/$ns3::WifiNetDevice/Phy/PhyRxDrop",
                                  MakeCallback(&PhyRxDrop));
    Config::Connect("/NodeList/*/$ns3::ArpL3Protocol/Drop", MakeCallback(&ArpDropCtx));
    Config::ConnectWithoutContext("/NodeList/*/$ns3::ArpL3Protocol/CacheList/*/Drop",
                                  MakeCallback(&ArpCacheDrop));
    Config::ConnectWithoutContext("/NodeList/*/DeviceList/*/$ns3::WifiNetDevice/Mac/MacTx",
                                  MakeCallback(&MacTx));
    Config::ConnectWithoutContextFailSafe("/NodeList/*/$ns3::olsr::RoutingProtocol/Tx",
                                  MakeCallback(&OlsrTx));
    FlowMonitorHelper fmh;
    Ptr<FlowMonitor> fm = fmh.InstallAll();

    if (nbSample)
    {
        Simulator::Schedule(Seconds(1), &SampleNeighbours, nodes, simTime);
    }
    Simulator::Stop(Seconds(simTime));
    std::clock_t c0 = std::clock();
    Simulator::Run();
    double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
    uint64_t events = Simulator::GetEventCount();

    fm->CheckForLostPackets();
    auto cls = DynamicCast<Ipv4FlowClassifier>(fmh.GetClassifier());
    uint64_t tx = 0, rx = 0, rxBytes = 0, fwd = 0;
    double delaySum = 0, jitterSum = 0;
    std::vector<uint64_t> hist; // delay histogram, FlowMonitor's 1 ms bins
    for (auto& [id, st] : fm->GetFlowStats())
    {
        if (cls->FindFlow(id).destinationPort != 9)
        {
            continue;
        }
        tx += st.txPackets;
        rx += st.rxPackets;
        rxBytes += st.rxBytes;
        fwd += st.timesForwarded;
        delaySum += st.delaySum.GetSeconds();
        jitterSum += st.jitterSum.GetSeconds();
        const Histogram& h = st.delayHistogram;
        if (hist.size() < h.GetNBins())
        {
            hist.resize(h.GetNBins(), 0);
        }
        for (uint32_t b = 0; b < h.GetNBins(); ++b)
        {
            hist[b] += h.GetBinCount(b);
        }
    }
    auto pct = [&](double q) {
        uint64_t want = uint64_t(q * rx), acc = 0;
        for (size_t b = 0; b < hist.size(); ++b)
        {
            acc += hist[b];
            if (acc > want)
            {
                return double(b) + 0.5; // ms (bin centre)
            }
        }
        return 0.0;
    };
    Simulator::Destroy();

    // [packets, delay sum ms] per bin: <10, <100, <300, <1000, <3000, >=3000 ms
    // (same edges as Twin's delay_bins; delays at the 1 ms bin centres).
    const double edges[] = {10, 100, 300, 1000, 3000};
    uint64_t binN[6] = {0};
    double binSum[6] = {0};
    for (size_t b = 0; b < hist.size(); ++b)
    {
        double ms = double(b) + 0.5;
        size_t i = 0;
        while (i < 5 && ms >= edges[i])
        {
            ++i;
        }
        binN[i] += hist[b];
        binSum[i] += ms * hist[b];
    }
    std::ostringstream bins;
    for (size_t i = 0; i < 6; ++i)
    {
        bins << (i ? "," : "") << "[" << binN[i] << "," << binSum[i] << "]";
    }

    std::ostringstream drops;
    bool first = true;
    for (auto& [r, n] : g.ipDrop)
    {
        drops << (first ? "" : ",") << "\"" << r << "\":" << n;
        first = false;
    }
    std::ostringstream mpdu;
    first = true;
    for (auto& [r, n] : g.droppedMpdu)
    {
        mpdu << (first ? "" : ",") << "\"" << r << "\":" << n;
        first = false;
    }
    std::ostringstream loop;
    first = true;
    for (auto& [t, n] : g.loopback)
    {
        loop << (first ? "" : ",") << "\"" << t << "\":" << n;
        first = false;
    }
    std::ostringstream types;
    first = true;
    for (auto& [t, n] : g.ctrlByType)
    {
        types << (first ? "" : ",") << "\"" << t << "\":" << n;
        first = false;
    }
    std::ostringstream kinds;
    for (auto& [k, n] : g.droppedMpduKind)
    {
        kinds << (kinds.tellp() > 0 ? "," : "") << "\"" << k << "\":" << n;
    }
    std::ostringstream txerr;
    for (auto& [k, n] : g.txErrClass)
    {
        txerr << (txerr.tellp() > 0 ? "," : "") << "\"" << k << "\":" << n;
    }
    std::ostringstream arpBy;
    for (auto& [k, n] : g.arpDropBy)
    {
        arpBy << (arpBy.tellp() > 0 ? "," : "") << "\"" << k << "\":" << n;
    }
    std::ostringstream ipData;
    for (auto& [k, n] : g.ipDropData)
    {
        ipData << (ipData.tellp() > 0 ? "," : "") << "\"" << k << "\":" << n;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    std::cout << "RESULT {\"sim\":\"ns-3.44\",\"peak_rss_mb\":" << ru.ru_maxrss / 1024.0 << ",\"protocol\":\"" << protocol << "\",\"nodes\":" << nNodes
              << ",\"trace\":\"" << trace << "\",\"seed\":" << seed << ",\"run\":" << run << ",\"events\":" << events
              << ",\"cpu_s\":" << cpu << ",\"offered_pkts\":" << uint64_t(offered + 0.5)
              << ",\"app_tx_pkts\":" << g.appTx << ",\"tx_pkts\":" << tx << ",\"rx_pkts\":" << rx
              << ",\"pdr_nominal\":" << (offered > 0 ? rx / offered : 0)
              << ",\"pdr_entered\":" << (tx ? double(rx) / tx : 0)
              << ",\"mean_delay_ms\":" << (rx ? 1000 * delaySum / rx : 0)
              << ",\"mean_jitter_ms\":" << (rx > 1 ? 1000 * jitterSum / (rx - 1) : 0)
              << ",\"forwards_per_rx\":" << (rx ? double(fwd) / rx : 0)
              << ",\"throughput_kbps\":" << rxBytes * 8 / 1000.0 / (simTime - 25.0)
              << ",\"control_pkts\":" << g.ctrlPkts << ",\"control_bytes\":" << g.ctrlBytes
              << ",\"data_ip_tx\":" << g.dataIpTx << ",\"mac_tx_drop\":" << g.macTxDrop
              << ",\"mac_rx_drop\":" << g.macRxDrop << ",\"phy_rx_drop\":" << g.phyRxDrop
              << ",\"delay_p50_ms\":" << pct(0.5) << ",\"delay_p90_ms\":" << pct(0.9)
              << ",\"delay_bins\":[" << bins.str() << "]"
              << ",\"control_broadcast\":" << g.ctrlBroadcast << ",\"control_by_type\":{"
              << types.str() << "},\"rreq_originated\":" << g.rreqOriginated
              << ",\"aodv_hello\":" << g.aodvHello << ",\"rreq_originated_not_sink\":" << g.rreqToOther
              << ",\"loopback_by_type\":{" << loop.str() << "}"
              << ",\"olsr_hello\":" << g.olsrHello << ",\"olsr_tc_originated\":" << g.olsrTcOriginated
              << ",\"olsr_tc_forwarded\":" << g.olsrTcForwarded << ",\"arp_requests\":" << g.arpRequests
              << ",\"arp_replies\":" << g.arpReplies << ",\"arp_drop\":" << g.arpDrop << ",\"ip_drop\":{" << drops.str() << "},\"dropped_mpdu\":{" << mpdu.str() << "}"
              << ",\"dropped_mpdu_kind\":{" << kinds.str() << "}"
              << ",\"arp_drop_by\":{" << arpBy.str() << "},\"ip_drop_data\":{" << ipData.str() << "}"
              << ",\"tx_error_class\":{" << txerr.str() << "},\"tx_error_episodes\":" << g.txErrEpisodes
              << ",\"nb_samples\":" << g.nbSamples << ",\"nb_up\":" << g.nbUp << ",\"nb_down\":" << g.nbDown << "}"
              << std::endl;
    return 0;
}
