//! Real AMF0 bodies (ireader/media-server test vectors, see PROVENANCE.md):
//! decode them, check concrete fields, and re-encode.

mod common;

use rtmp_proto::amf0::{decode, encode, Amf0Value};

fn reencode(values: &[Amf0Value]) -> Vec<u8> {
    let mut out = Vec::new();
    encode(values, &mut out);
    out
}

#[test]
fn fmle3_connect_decodes_and_reencodes_exactly() {
    let Some(bytes) = common::corpus_file("ireader_amf0/fmle3_connect.amf0") else {
        return;
    };
    let values = decode(&bytes).unwrap();
    assert_eq!(values.len(), 3, "{values:#?}");
    assert_eq!(values[0].as_str(), Some("connect"));
    assert_eq!(values[1].as_f64(), Some(1.0));
    let cmd = &values[2];
    assert!(matches!(cmd, Amf0Value::Object(_)));
    let s = |k: &str| cmd.get(k).and_then(Amf0Value::as_str);
    let n = |k: &str| cmd.get(k).and_then(Amf0Value::as_f64);
    assert_eq!(s("app"), Some("live/"));
    assert_eq!(s("tcUrl"), Some("rtmp://push.rtmp.com/live/"));
    assert_eq!(s("swfUrl"), Some("rtmp://push.rtmp.com/live/"));
    assert_eq!(s("type"), Some("nonprivate"));
    assert_eq!(s("flashVer"), Some("FMLE/3.0 (compatible; FMSc/1.0)"));
    assert_eq!(cmd.get("fpad").and_then(Amf0Value::as_bool), Some(false));
    assert_eq!(n("capabilities"), Some(15.0));
    assert_eq!(n("audioCodecs"), Some(3191.0));
    assert_eq!(n("videoCodecs"), Some(252.0));
    assert_eq!(n("videoFunction"), Some(1.0));
    assert_eq!(cmd.get("pageUrl"), Some(&Amf0Value::Undefined));
    assert_eq!(n("objectEncoding"), Some(0.0));
    // Wire order is kept.
    let keys: Vec<&str> = cmd
        .properties()
        .unwrap()
        .iter()
        .map(|(k, _)| k.as_str())
        .collect();
    assert_eq!(keys.first(), Some(&"app"));
    assert_eq!(keys.last(), Some(&"objectEncoding"));
    assert_eq!(keys.len(), 12);
    // The input is canonical AMF0, so re-encoding gives the same bytes.
    assert_eq!(reencode(&values), bytes);
}

#[test]
fn fms355_connect_result_decodes_and_reencodes() {
    let Some(bytes) = common::corpus_file("ireader_amf0/fms3.5.5_connect_result.amf0") else {
        return;
    };
    let values = decode(&bytes).unwrap();
    assert_eq!(values.len(), 4, "{values:#?}");
    assert_eq!(values[0].as_str(), Some("_result"));
    assert_eq!(values[1].as_f64(), Some(1.0));
    let props = &values[2];
    assert_eq!(
        props.get("fmsVer").and_then(Amf0Value::as_str),
        Some("FMS/3,5,5,2004")
    );
    assert_eq!(
        props.get("capabilities").and_then(Amf0Value::as_f64),
        Some(31.0)
    );
    assert_eq!(props.get("mode").and_then(Amf0Value::as_f64), Some(1.0));
    let info = &values[3];
    let s = |k: &str| info.get(k).and_then(Amf0Value::as_str);
    assert_eq!(s("level"), Some("status"));
    assert_eq!(s("code"), Some("NetConnection.Connect.Success"));
    assert_eq!(s("description"), Some("Connection succeeded."));
    assert_eq!(
        info.get("objectEncoding").and_then(Amf0Value::as_f64),
        Some(3.0)
    );
    assert!(info.get("clientid").and_then(Amf0Value::as_f64).unwrap() > 1.0e9);
    let data = info.get("data").unwrap();
    assert!(matches!(data, Amf0Value::EcmaArray(_)));
    assert_eq!(
        data.get("version").and_then(Amf0Value::as_str),
        Some("3,5,5,2004")
    );

    // The body is canonical AMF0 (the ECMA count is exact), so re-encoding
    // gives the same bytes.
    let out = reencode(&values);
    assert_eq!(out, bytes);
    // And the re-encoding is canonical: it survives another trip unchanged.
    assert_eq!(reencode(&decode(&out).unwrap()), out);
}
