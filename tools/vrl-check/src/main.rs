//! vrl-check: compiles and runs VRL programs with the `vrl` crate of Vector 0.48, for vector-operator's tests.
//!
//! Reads one JSON request on stdin and writes one JSON response on stdout:
//!
//! ```text
//! {"programs":[{"id":"r1","kind":"condition"|"remap","source":"...",
//!               "events":[{"event":{...},"metadata":{...}}]}]}
//! ->
//! {"vrl":"0.25.0","programs":[{"id":"r1","compiled":true,"diagnostics":"","warnings":"","codes":[],
//!   "functions":["md5",...],"fallible":false,"abortable":false,"results":[...]}]}
//! ```
//!
//! Invariants:
//! - Programs compile with every stdlib function and an event and metadata of any shape, as Vector does when the
//!   source's schema is unknown. A condition also compiles read-only and must resolve to a boolean, as Vector's
//!   `vrl` condition requires.
//! - `functions` comes from the parsed AST (sorted, unique), even when type checking fails, so a caller can compare
//!   it with its own scanner; it is empty only when the source does not parse.
//! - Each event runs with a fresh runtime. A condition result is `{"outcome":"ok","value":<value>,"matched":bool}`;
//!   a runtime error or a non-boolean value does not match, as in Vector. A remap result is
//!   `{"outcome":"ok","event":...,"metadata":...}`, or `{"outcome":"error"|"abort","error":"..."}`.
//! - A malformed request exits 2 with a message on stderr; a program that does not compile is a normal response.
use std::collections::BTreeSet;
use std::io::{self, Read, Write};

use serde_json::{json, Map, Value as Json};
use vrl::compiler::runtime::{Runtime, Terminate};
use vrl::compiler::state::RuntimeState;
use vrl::compiler::{compile_with_state, CompileConfig, Program, TargetValue, TimeZone, TypeState};
use vrl::diagnostic::{DiagnosticList, Formatter};
use vrl::parser::ast;
use vrl::value::{Secrets, Value};

const VRL_VERSION: &str = "0.25.0";

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Condition,
    Remap,
}

fn main() {
    let mut input = String::new();
    if let Err(e) = io::stdin().read_to_string(&mut input) {
        fail(&format!("vrl-check: reading stdin: {e}"));
    }
    let request: Json = serde_json::from_str(&input)
        .unwrap_or_else(|e| fail(&format!("vrl-check: the request is not JSON: {e}")));
    let Some(programs) = request.get("programs").and_then(Json::as_array) else {
        fail("vrl-check: the request needs a \"programs\" array");
    };
    let functions = vrl::stdlib::all();
    let mut out = Vec::with_capacity(programs.len());
    for (i, p) in programs.iter().enumerate() {
        out.push(check_program(i, p, &functions));
    }
    let response = json!({ "vrl": VRL_VERSION, "programs": out });
    let mut stdout = io::stdout().lock();
    let text = serde_json::to_string(&response).expect("a response serializes");
    if stdout.write_all(text.as_bytes()).and_then(|()| stdout.write_all(b"\n")).is_err() {
        std::process::exit(1);
    }
}

fn fail(message: &str) -> ! {
    eprintln!("{message}");
    std::process::exit(2);
}

fn check_program(index: usize, p: &Json, functions: &[Box<dyn vrl::compiler::Function>]) -> Json {
    let id = p.get("id").cloned().unwrap_or_else(|| Json::from(index));
    let source = p
        .get("source")
        .and_then(Json::as_str)
        .unwrap_or_else(|| fail(&format!("vrl-check: programs[{index}].source must be a string")));
    let kind = match p.get("kind").and_then(Json::as_str) {
        Some("condition") => Kind::Condition,
        Some("remap") => Kind::Remap,
        other => fail(&format!(
            "vrl-check: programs[{index}].kind must be \"condition\" or \"remap\", not {other:?}"
        )),
    };
    let events: &[Json] = p.get("events").and_then(Json::as_array).map_or(&[], Vec::as_slice);

    let mut reply = Map::new();
    reply.insert("id".into(), id);
    reply.insert("functions".into(), json!(called_functions(source)));

    let mut config = CompileConfig::default();
    if kind == Kind::Condition {
        config.set_read_only();
    }
    let program = match compile_with_state(source, functions, &TypeState::default(), config) {
        Ok(result) => {
            reply.insert("warnings".into(), Json::from(format_diagnostics(source, result.warnings)));
            Some(result.program)
        }
        Err(diagnostics) => {
            let codes: Vec<usize> = diagnostics.errors().iter().map(|d| d.code).collect();
            reply.insert("codes".into(), json!(codes));
            reply.insert("diagnostics".into(), Json::from(format_diagnostics(source, diagnostics)));
            None
        }
    };
    let Some(program) = program else {
        reply.insert("compiled".into(), Json::Bool(false));
        return Json::Object(reply);
    };
    if kind == Kind::Condition && !program.final_type_info().result.is_boolean() {
        reply.insert("compiled".into(), Json::Bool(false));
        reply.insert("codes".into(), json!([]));
        reply.insert(
            "diagnostics".into(),
            Json::from("a condition must resolve to a boolean (Vector refuses this condition at load)"),
        );
        return Json::Object(reply);
    }
    reply.insert("compiled".into(), Json::Bool(true));
    reply.insert("codes".into(), json!([]));
    reply.insert("diagnostics".into(), Json::from(""));
    reply.insert("fallible".into(), Json::Bool(program.info().fallible));
    reply.insert("abortable".into(), Json::Bool(program.info().abortable));
    let results: Vec<Json> = events.iter().map(|e| run(kind, &program, e)).collect();
    reply.insert("results".into(), Json::Array(results));
    Json::Object(reply)
}

fn format_diagnostics(source: &str, diagnostics: DiagnosticList) -> String {
    if diagnostics.is_empty() {
        return String::new();
    }
    Formatter::new(source, diagnostics).to_string()
}

fn run(kind: Kind, program: &Program, sample: &Json) -> Json {
    let event = sample.get("event").cloned().unwrap_or_else(|| json!({}));
    let metadata = sample.get("metadata").cloned().unwrap_or_else(|| json!({}));
    let mut target = TargetValue {
        value: Value::from(event),
        metadata: Value::from(metadata),
        secrets: Secrets::default(),
    };
    let mut runtime = Runtime::new(RuntimeState::default());
    let resolved = runtime.resolve(&mut target, program, &TimeZone::default());
    match (kind, resolved) {
        (Kind::Condition, Ok(value)) => {
            let matched = matches!(value, Value::Boolean(true));
            json!({ "outcome": "ok", "value": value, "matched": matched })
        }
        (Kind::Remap, Ok(_)) => json!({ "outcome": "ok", "event": target.value, "metadata": target.metadata }),
        (kind, Err(terminate)) => {
            let outcome = match terminate {
                Terminate::Abort(_) => "abort",
                Terminate::Error(_) => "error",
            };
            let mut r = json!({ "outcome": outcome, "error": terminate.to_string() });
            if kind == Kind::Condition {
                r["matched"] = Json::Bool(false);
            }
            r
        }
    }
}

/// The names of all functions the source calls, from the parsed AST; empty when it does not parse.
fn called_functions(source: &str) -> Vec<String> {
    let mut names = BTreeSet::new();
    if let Ok(program) = vrl::parser::parse(source) {
        for root in program.0 {
            if let ast::RootExpr::Expr(node) = root.into_inner() {
                walk(node.into_inner(), &mut names);
            }
        }
    }
    names.into_iter().collect()
}

fn unbox<T>(node: Box<ast::Node<T>>) -> T {
    (*node).into_inner()
}

fn walk_block(block: ast::Block, names: &mut BTreeSet<String>) {
    for node in block {
        walk(node.into_inner(), names);
    }
}

fn walk_call(call: ast::FunctionCall, names: &mut BTreeSet<String>) {
    names.insert(call.ident.into_inner().into_inner());
    for arg in call.arguments {
        walk(arg.into_inner().expr.into_inner(), names);
    }
    if let Some(closure) = call.closure {
        walk_block(closure.into_inner().block.into_inner(), names);
    }
}

fn walk_container(container: ast::Container, names: &mut BTreeSet<String>) {
    match container {
        ast::Container::Group(group) => walk((*group).into_inner().into_inner().into_inner(), names),
        ast::Container::Block(block) => walk_block(block.into_inner(), names),
        ast::Container::Array(array) => {
            for node in array.into_inner() {
                walk(node.into_inner(), names);
            }
        }
        ast::Container::Object(object) => {
            for (_key, node) in object.into_inner() {
                walk(node.into_inner(), names);
            }
        }
    }
}

fn walk(expr: ast::Expr, names: &mut BTreeSet<String>) {
    match expr {
        ast::Expr::Literal(_) | ast::Expr::Variable(_) => {}
        ast::Expr::Container(c) => walk_container(c.into_inner(), names),
        ast::Expr::IfStatement(node) => {
            let stmt = node.into_inner();
            match stmt.predicate.into_inner() {
                ast::Predicate::One(e) => walk(unbox(e), names),
                ast::Predicate::Many(es) => {
                    for e in es {
                        walk(e.into_inner(), names);
                    }
                }
            }
            walk_block(stmt.if_node.into_inner(), names);
            if let Some(alt) = stmt.else_node {
                walk_block(alt.into_inner(), names);
            }
        }
        ast::Expr::Op(node) => {
            let ast::Op(lhs, _, rhs) = node.into_inner();
            walk(unbox(lhs), names);
            walk(unbox(rhs), names);
        }
        ast::Expr::Assignment(node) => match node.into_inner() {
            ast::Assignment::Single { target, expr, .. } => {
                walk_target(target.into_inner(), names);
                walk(unbox(expr), names);
            }
            ast::Assignment::Infallible { ok, err, expr, .. } => {
                walk_target(ok.into_inner(), names);
                walk_target(err.into_inner(), names);
                walk(unbox(expr), names);
            }
        },
        ast::Expr::Query(node) => walk_query(node.into_inner(), names),
        ast::Expr::FunctionCall(node) => walk_call(node.into_inner(), names),
        ast::Expr::Unary(node) => match node.into_inner() {
            ast::Unary::Not(not) => walk(unbox(not.into_inner().take().1), names),
        },
        ast::Expr::Abort(node) => {
            if let Some(message) = node.into_inner().message {
                walk(unbox(message), names);
            }
        }
        ast::Expr::Return(node) => walk(unbox(node.into_inner().expr), names),
    }
}

fn walk_target(target: ast::AssignmentTarget, names: &mut BTreeSet<String>) {
    if let ast::AssignmentTarget::Query(q) = target {
        walk_query(q, names);
    }
}

fn walk_query(query: ast::Query, names: &mut BTreeSet<String>) {
    match query.target.into_inner() {
        ast::QueryTarget::FunctionCall(call) => walk_call(call, names),
        ast::QueryTarget::Container(c) => walk_container(c, names),
        ast::QueryTarget::Internal(_) | ast::QueryTarget::External(_) => {}
    }
}
