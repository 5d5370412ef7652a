//! Random sequences of payments, refunds, completions, cancellations and payouts, after which the
//! ledger's every invariant still holds: no money created, lost or counted twice.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::payments::{deal, ledger_holds, pay, settle, Deal};

#[derive(Clone, Debug)]
enum Op {
    Pay(usize, &'static str),
    Refund(usize, i64),
    Complete(usize),
    Cancel(usize),
    Payout(usize, i64),
    Settle,
}

fn op() -> impl Strategy<Value = Op> {
    let card = prop::sample::select(vec![
        "pm_card_visa",
        "pm_card_visa",
        "pm_card_processing",
        "pm_card_chargeDeclined",
    ]);
    prop_oneof![
        3 => (0..2usize, card).prop_map(|(d, c)| Op::Pay(d, c)),
        2 => (0..2usize, 1..6_000i64).prop_map(|(d, a)| Op::Refund(d, a)),
        1 => (0..2usize).prop_map(Op::Complete),
        1 => (0..2usize).prop_map(Op::Cancel),
        2 => (0..2usize, 1..9_000i64).prop_map(|(d, a)| Op::Payout(d, a)),
        2 => Just(Op::Settle),
    ]
}

async fn apply(app: &TestApp, admin: &crate::helpers::TestUser, deals: &[Deal], op: &Op, n: usize) {
    match *op {
        Op::Pay(i, card) => {
            let d = &deals[i];
            let body = json!({"payment_method": card});
            pay(app, &d.client, &d.invoice, &format!("k{n}"), body).await;
        }
        Op::Refund(i, amount) => {
            let d = &deals[i];
            let list: serde_json::Value = app
                .get(
                    &format!("/v1/payments?order_id={}", d.order),
                    &d.creative.token,
                )
                .await
                .json()
                .await
                .unwrap();
            let paid = list["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["status"] == "succeeded")
                .cloned();
            if let Some(p) = paid {
                let body = json!({"amount": {"amount": amount, "currency": "EUR"}});
                let path = format!("/v1/payments/{}/refunds", p["id"].as_str().unwrap());
                app.post(&path, Some(&d.creative.token), &body).await;
            }
        }
        Op::Complete(i) => {
            let d = &deals[i];
            app.transition(&d.creative, &d.order, "delivered", None)
                .await;
            app.transition(&d.client, &d.order, "completed", None).await;
        }
        Op::Cancel(i) => {
            app.transition(admin, &deals[i].order, "cancelled", Some("random"))
                .await;
        }
        Op::Payout(i, amount) => {
            let d = &deals[i];
            app.request(Method::POST, "/v1/payouts", Some(&d.creative.token))
                .header("Idempotency-Key", format!("p{n}"))
                .json(&json!({"amount": {"amount": amount, "currency": "EUR"}}))
                .send()
                .await
                .unwrap();
        }
        Op::Settle => settle(app).await,
    }
}

#[tokio::test]
async fn no_sequence_of_money_moves_breaks_the_ledger() {
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases: 8,
            ..Config::default()
        },
        proptest::test_runner::TestRng::deterministic_rng(
            proptest::test_runner::RngAlgorithm::ChaCha,
        ),
    );
    let strategy = prop::collection::vec(op(), 8..24);
    let mut moved = 0;
    for case in 0..8 {
        let ops = strategy.new_tree(&mut runner).unwrap().current();
        let app = TestApp::spawn_with(|s| {
            s.payments.sandbox_settle_after = std::time::Duration::from_millis(1);
        })
        .await;
        let admin = app.register_admin("support").await;
        let deals = vec![
            deal(&app, "in_progress", 10_000).await,
            deal(&app, "in_progress", 10_000).await,
        ];
        for d in &deals {
            let res = app
                .request(
                    Method::PUT,
                    "/v1/me/payout-destination",
                    Some(&d.creative.token),
                )
                .json(
                    &json!({"iban": "GB82 WEST 1234 5698 7654 32", "account_holder": "A Creative"}),
                )
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success());
        }
        for (n, op) in ops.iter().enumerate() {
            apply(&app, &admin, &deals, op, n).await;
        }
        settle(&app).await;
        ledger_holds(&app).await;
        // Every payment is accounted for: what clients put in equals what is in escrow, available,
        // paid out, in the platform's fees or on its way, less what went back to them.
        let mut conn = app.conn().await;
        let problems = createspace::db::ledger::check(&mut conn).await.unwrap();
        assert!(problems.is_empty(), "case {case}: {ops:?}\n{problems:#?}");
        moved += transactions(&app).await;
    }
    assert!(
        moved >= 20,
        "the sequences moved money ({moved} ledger transactions)"
    );
}

async fn transactions(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    let mut conn = app.conn().await;
    createspace::db::schema::ledger_transactions::table
        .count()
        .get_result(&mut conn)
        .await
        .unwrap()
}
