use super::*;

#[test]
fn line_col_counts_characters() {
    let t = "ab\ncdé\nx";
    assert_eq!(line_col(t, 0), (1, 1));
    assert_eq!(line_col(t, 3), (2, 1));
    assert_eq!(line_col(t, t.len() - 1), (3, 1));
}

#[test]
fn paths_split_and_join() {
    let p = split_path("flows[2].dst");
    assert_eq!(
        p,
        vec![
            Seg::Key("flows".into()),
            Seg::Index(2),
            Seg::Key("dst".into())
        ]
    );
    assert_eq!(join_path(&p), "flows[2].dst");
}

#[test]
fn span_of_finds_array_of_tables_field() {
    let text = "[[flows]]\nsrc = \"a\"\n[[flows]]\nsrc = \"b\"\ndst = \"zz\"\n";
    let doc = ImDocument::parse(text).unwrap();
    let s = span_of(Ref::Table(doc.as_table()), "flows[1].dst").unwrap();
    assert_eq!(&text[s], "\"zz\"");
}

#[test]
fn find_path_inside_inline_table() {
    let text = "[[nodes]]\nname = \"a\"\nmobility = { model = \"x\", speed = [1, 2] }\n";
    let doc = ImDocument::parse(text).unwrap();
    let off = text.find("\"x\"").unwrap();
    let mut path = Vec::new();
    assert!(find_path(Ref::Table(doc.as_table()), off, &mut path));
    assert_eq!(join_path(&path), "nodes[0].mobility.model");
}
