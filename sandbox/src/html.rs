//! Tiny HTML helpers for the sandbox's pages (no templates, no scripts).

pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font:14px/1.4 system-ui,Segoe UI,Arial,sans-serif;margin:0;background:#f3f4f6;color:#1f2933}\
header{background:#1f4e79;color:#fff;padding:8px 16px;display:flex;gap:24px;align-items:baseline}\
header h1{font-size:18px;margin:0}header span{opacity:.8}\
main{padding:16px}.error{color:#9e2d2d;font-weight:bold}\
table{border-collapse:collapse;background:#fff}td,th{border:1px solid #cbd2d9;padding:4px 10px;text-align:left}\
th{background:#e4e7eb}.layout{display:flex;gap:16px;align-items:flex-start}\
.banner{background:#fff8e1;border:1px solid #e0c36a;padding:6px 12px;margin-bottom:8px}\
iframe{width:100%;height:70vh;border:1px solid #9aa5b1;background:#fff}\
.apparea{flex:1}form{background:#fff;padding:12px 16px;border:1px solid #cbd2d9;max-width:640px}\
code{background:#eef}";

/// A whole page with the sandbox's plain clinical look.
pub fn page(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
        escape(title)
    )
}

/// A page with the EHR header bar.
pub fn ehr_page(ehr_name: &str, title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{} - {}</title><style>{STYLE}</style></head><body>\
         <header><h1>{}</h1><span>Clinician workstation</span>\
         <span>Signed in: Dr. Claire Moreau</span></header><main>{body}</main></body></html>",
        escape(title),
        escape(ehr_name),
        escape(ehr_name)
    )
}
