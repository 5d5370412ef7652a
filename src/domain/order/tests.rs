//! The state machine's rules, example by example and as properties.

use super::*;
use proptest::prelude::*;

fn clock() -> Clock {
    Clock {
        now: "2026-11-28T12:00:00Z".parse().unwrap(),
        late_cancel_after: Duration::hours(24),
    }
}

fn order(status: OrderStatus) -> OrderFacts {
    OrderFacts {
        status,
        revisions_used: 0,
        revisions_included: 1,
        due_at: "2026-12-10T12:00:00Z".parse().unwrap(),
        awaiting_payment: false,
    }
}

#[test]
fn the_happy_path_is_allowed_to_the_right_actors() {
    let c = clock();
    let mut o = order(New);
    for (to, actor) in [
        (InProgress, Creative),
        (Delivered, Creative),
        (Completed, Client),
    ] {
        let effect = check(&o, to, actor, None, &c).unwrap();
        o = apply(&o, to, effect);
    }
    assert_eq!(o.status, Completed);
}

#[test]
fn wrong_actor_is_forbidden_and_missing_edge_is_not_allowed() {
    let c = clock();
    assert!(matches!(
        check(&order(New), InProgress, Client, None, &c),
        Err(Refusal::Forbidden(_))
    ));
    assert_eq!(
        check(&order(New), Completed, Client, None, &c),
        Err(Refusal::NotAllowed)
    );
}

#[test]
fn revisions_are_limited() {
    let c = clock();
    let o = order(Delivered);
    let effect = check(&o, InProgress, Client, None, &c).unwrap();
    assert_eq!(effect, Effect::RevisionUsed);
    let o = apply(&apply(&o, InProgress, effect), Delivered, Effect::Delivered);
    assert!(matches!(
        check(&o, InProgress, Client, None, &c),
        Err(Refusal::Conflict {
            code: "no_revisions_left",
            ..
        })
    ));
}

#[test]
fn client_cancels_in_progress_only_when_late_enough() {
    let mut o = order(InProgress);
    let mut c = clock();
    o.due_at = c.now - Duration::hours(23);
    assert!(matches!(
        check(&o, Cancelled, Client, None, &c),
        Err(Refusal::Conflict {
            code: "not_late_enough",
            ..
        })
    ));
    c.now += Duration::hours(2);
    assert!(check(&o, Cancelled, Client, None, &c).is_ok());
    assert!(matches!(
        check(&o, Cancelled, Creative, None, &c),
        Err(Refusal::Forbidden(_))
    ));
}

#[test]
fn declining_and_disputing_need_a_reason() {
    let c = clock();
    assert_eq!(
        check(&order(New), Declined, Creative, None, &c),
        Err(Refusal::NoteRequired)
    );
    assert_eq!(
        check(&order(New), Declined, Creative, Some("  "), &c),
        Err(Refusal::NoteRequired)
    );
    assert!(check(&order(InProgress), Disputed, Client, Some("late"), &c).is_ok());
}

#[test]
fn only_admins_resolve_disputes_and_only_through_dispute_resolution() {
    let c = clock();
    for to in [Completed, Cancelled] {
        let bare = check(&order(Disputed), to, Admin, None, &c);
        assert!(
            matches!(
                bare,
                Err(Refusal::Conflict {
                    code: "dispute_resolution_required",
                    ..
                })
            ),
            "{bare:?}"
        );
        assert_eq!(check_dispute_resolution(&order(Disputed), to), Ok(()));
    }
    assert!(allowed_moves(&order(Disputed), Admin, &c).is_empty());
    assert!(matches!(
        check_dispute_resolution(&order(InProgress), Completed),
        Err(Refusal::Conflict {
            code: "not_disputed",
            ..
        })
    ));
    assert_eq!(
        check_dispute_resolution(&order(Disputed), InProgress),
        Err(Refusal::NotAllowed)
    );
    assert!(matches!(
        check(&order(Disputed), Completed, Client, None, &c),
        Err(Refusal::Forbidden(_))
    ));
}

#[test]
fn upfront_terms_unpaid_hold_the_start_back() {
    let c = clock();
    let mut o = order(New);
    o.awaiting_payment = true;
    assert!(matches!(
        check(&o, InProgress, Creative, None, &c),
        Err(Refusal::Conflict {
            code: "payment_required",
            ..
        })
    ));
    assert_eq!(allowed_moves(&o, Creative, &c), vec![Declined]);
    o.awaiting_payment = false;
    assert!(check(&o, InProgress, Creative, None, &c).is_ok());
}

#[test]
fn allowed_moves_reflect_the_caller() {
    let c = clock();
    assert_eq!(
        allowed_moves(&order(New), Creative, &c),
        vec![InProgress, Declined]
    );
    assert_eq!(allowed_moves(&order(New), Client, &c), vec![Cancelled]);
    assert_eq!(
        allowed_moves(&order(Delivered), Client, &c),
        vec![InProgress, Completed, Disputed]
    );
}

fn any_status() -> impl Strategy<Value = OrderStatus> {
    prop::sample::select(OrderStatus::ALL.to_vec())
}

fn any_actor() -> impl Strategy<Value = ActorRole> {
    prop::sample::select(vec![Client, Creative, Admin, System])
}

proptest! {
    /// Whatever sequence of moves is tried, the order is always in a defined status, its revision
    /// count stays within what was included, and once terminal nothing moves it again.
    #[test]
    fn no_sequence_of_moves_escapes_the_machine(
        included in 0i32..4,
        due_offset_hours in -100i64..100,
        moves in prop::collection::vec((any_status(), any_actor(), any::<bool>()), 0..40),
    ) {
        let c = clock();
        let mut o = OrderFacts {
            status: New,
            revisions_used: 0,
            revisions_included: included,
            due_at: c.now + Duration::hours(due_offset_hours),
            awaiting_payment: false,
        };
        for (to, actor, with_note) in moves {
            let note = with_note.then_some("because");
            let was_terminal = o.status.is_terminal();
            if let Ok(effect) = check(&o, to, actor, note, &c) {
                prop_assert!(!was_terminal, "moved out of terminal {:?}", o.status);
                prop_assert!(actors_for(o.status, to).is_some());
                o = apply(&o, to, effect);
            }
            prop_assert!(OrderStatus::ALL.contains(&o.status));
            prop_assert!(o.revisions_used <= o.revisions_included);
        }
    }

    #[test]
    fn terminal_states_allow_no_moves(status in any_status(), actor in any_actor()) {
        let c = clock();
        let o = order(status);
        if status.is_terminal() {
            prop_assert!(allowed_moves(&o, actor, &c).is_empty());
            prop_assert!(check_consented_cancellation(status).is_err());
        }
    }

    #[test]
    fn status_names_round_trip(status in any_status()) {
        prop_assert_eq!(OrderStatus::parse(status.as_str()), Some(status));
    }
}
