use crate::testutil::{flow, id, line, secs};

fn with_probes(extra: &str) -> crate::Scenario {
    let text = format!("{}\n{extra}", flow(0, 3, 4.0, "1s", "10s"));
    line("aodv", 4, 200.0, "10s", &text)
}

#[test]
fn link_and_route_probes_see_a_break() {
    let sc = with_probes(
        "[[probes]]\nkind = \"links\"\nevery = \"100ms\"\n\
         [[probes]]\nkind = \"routes\"\nevery = \"100ms\"\n\
         [[probes]]\nkind = \"flows\"\nevery = \"1s\"\n\
         [[probes]]\nkind = \"nodes\"\nevery = \"5s\"\nfile = \"n.csv\"\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let mut sim = crate::Simulation::from_scenario(&sc).unwrap();
    let mut probes = sim.probes(dir.path()).unwrap();
    probes.advance(&mut sim, secs(5.0)).unwrap();
    assert_eq!(sim.links_up(), vec![(0, 1), (1, 2), (2, 3)]);
    // Break n1-n2 at 5 s (n2 leaves); the route n0..n3 dies with it.
    sim.set_position(id(2), [400.0, 5_000.0, 0.0], [0.0; 3])
        .unwrap();
    probes.advance(&mut sim, secs(10.0)).unwrap();
    let summary = probes.finish(&mut sim).unwrap();

    let links = std::fs::read_to_string(dir.path().join("link-durations.csv")).unwrap();
    let rows: Vec<&str> = links.lines().skip(1).collect();
    // (1,2) and (2,3) are seen down at the first sample after the move
    // (5.1 s); (0,1) is still up at the end, censored at 10 s.
    assert!(
        rows.contains(&"1,2,0.000000,5.100000,5.100000,false"),
        "{links}"
    );
    assert!(
        rows.contains(&"2,3,0.000000,5.100000,5.100000,false"),
        "{links}"
    );
    assert!(
        rows.contains(&"0,1,0.000000,10.000000,10.000000,true"),
        "{links}"
    );
    let l = summary.links.unwrap();
    assert_eq!(l.count, 3);
    assert!((l.mean_s - 20.2 / 3.0).abs() < 1e-9, "{l:?}");
    assert!((l.median_s - 5.1).abs() < 1e-9, "{l:?}");

    let routes = std::fs::read_to_string(dir.path().join("route-lifetimes.csv")).unwrap();
    let r: Vec<&str> = routes.lines().skip(1).collect();
    assert_eq!(r.len(), 1, "{routes}");
    let f: Vec<&str> = r[0].split(',').collect();
    assert_eq!(
        (f[0], f[4], f[5], f[6]),
        ("0", "3", "n0 n1 n2 n3", "false"),
        "{routes}"
    );
    let up: f64 = f[1].parse().unwrap();
    let down: f64 = f[2].parse().unwrap();
    assert!(
        up > 1.0 && up < 2.0 && (5.0..7.0).contains(&down),
        "{routes}"
    );

    let flows = std::fs::read_to_string(dir.path().join("probe-flows.csv")).unwrap();
    assert_eq!(flows.lines().count(), 1 + 11, "{flows}");
    let nodes = std::fs::read_to_string(dir.path().join("n.csv")).unwrap();
    assert_eq!(nodes.lines().count(), 1 + 3 * 4, "{nodes}");
    assert!(
        nodes.lines().nth(1).unwrap().starts_with("0.000000,0,n0,"),
        "{nodes}"
    );
}

#[test]
fn bad_probe_settings_are_located() {
    let text = format!(
        "{}\n[[probes]]\nkind = \"links\"\nevery = \"0s\"\nfile = \"../x.csv\"\n",
        crate::testutil::flow(0, 1, 1.0, "1s", "2s")
    );
    let mut t = String::from(
        "[simulation]\nname = \"p\"\nduration = \"2s\"\n[radios.w]\nstandard = \"802.11b\"\n\
         rate_mbps = 11.0\n[routing]\nprotocol = \"aodv\"\n\
         [[nodes]]\nname = \"n\"\ncount = 2\nmobility = { model = \"line\", start = [0, 0, 0], spacing = [100, 0, 0] }\n",
    );
    t.push_str(&text);
    let e = crate::Scenario::parse(&t, Some(std::path::Path::new("p.toml"))).unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("probes[0].every"), "{msg}");
    assert!(msg.contains("probes[0].file"), "{msg}");
    assert!(msg.contains("p.toml:"), "{msg}");
}
