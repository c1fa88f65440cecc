//! Unit tests of the store operations.

use super::*;
use crate::seed::default_seed;

fn store() -> Store {
    Store::new(&default_seed(), Profile::V8, Settings::default())
}

const ALICE: &str = "k9ZfTqW2mHs8PxLcE";
const BOT: &str = "Bq7dYg4KxWnZcT3rA";

#[test]
fn send_derives_mentions_and_broadcasts() {
    let s = store();
    let mut rx = s.bus().subscribe();
    let m = s
        .send_message(
            ALICE,
            NewMessage {
                rid: "GENERAL".into(),
                msg: "hello @mybot".into(),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(m["mentions"][0]["_id"], BOT);
    assert_eq!(m["u"]["username"], "alice");
    match rx.try_recv().unwrap() {
        BusEvent::RoomMessage {
            message, room_type, ..
        } => {
            assert_eq!(message["_id"], m["_id"]);
            assert_eq!(room_type, "c");
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn thread_reply_updates_and_redelivers_the_root() {
    let s = store();
    let root = s
        .send_message(
            ALICE,
            NewMessage {
                rid: "GENERAL".into(),
                msg: "root".into(),
                ..Default::default()
            },
        )
        .unwrap();
    let root_id = root["_id"].as_str().unwrap().to_owned();
    let mut rx = s.bus().subscribe();
    let reply = s
        .send_message(
            BOT,
            NewMessage {
                rid: "GENERAL".into(),
                msg: "reply".into(),
                tmid: Some(root_id.clone()),
                ..Default::default()
            },
        )
        .unwrap();
    // A reply to the reply lands in the same thread.
    let nested = s
        .send_message(
            ALICE,
            NewMessage {
                rid: "GENERAL".into(),
                msg: "again".into(),
                tmid: reply["_id"].as_str().map(str::to_owned),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(nested["tmid"], root_id.as_str());
    let ids: Vec<String> = std::iter::from_fn(|| rx.try_recv().ok())
        .filter_map(|e| match e {
            BusEvent::RoomMessage { message, .. } => message["_id"].as_str().map(str::to_owned),
            _ => None,
        })
        .collect();
    assert_eq!(
        ids,
        [
            reply["_id"].as_str().unwrap(),
            &root_id,
            nested["_id"].as_str().unwrap(),
            &root_id
        ]
    );
    assert_eq!(s.message(&root_id).unwrap()["tcount"], 2);
}

#[test]
fn private_rooms_refuse_non_members_and_duplicate_ids_fail() {
    let s = store();
    let bob = "Yh3nR6vPq2XzMt8Ws";
    let err = s
        .send_message(
            bob,
            NewMessage {
                rid: "pX7aQmTz4cK9rWn2H".into(),
                msg: "x".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(err, ApiError::plain("error-not-allowed"));
    let new = NewMessage {
        id: Some("Cl1entGenId000001".into()),
        rid: "GENERAL".into(),
        msg: "x".into(),
        ..Default::default()
    };
    s.send_message(BOT, new.clone()).unwrap();
    assert!(s.send_message(BOT, new).is_err());
}

#[test]
fn dm_id_is_sorted_ids() {
    let s = store();
    let room = s
        .create_direct_message("Yh3nR6vPq2XzMt8Ws", "mybot")
        .unwrap();
    assert_eq!(room.id, format!("{BOT}Yh3nR6vPq2XzMt8Ws"));
    assert!(s.is_member(&room.id, BOT));
}

#[test]
fn tokens_resolve_expire_and_revoke() {
    let s = store();
    let (u, kind) = s
        .user_by_token("Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c")
        .unwrap();
    assert_eq!(
        (u.username.as_str(), kind),
        ("mybot", TokenKind::PersonalAccess)
    );
    assert!(s.expire_token("9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq"));
    let err = s
        .user_by_token("9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq")
        .unwrap_err();
    assert_eq!(
        err.reason.as_deref(),
        Some("Your session has expired. Please log in again.")
    );
    assert_eq!(s.revoke_tokens("mybot"), 2);
    assert!(s
        .authenticate(BOT, "Ra2-pCvh7QfE1GmbXW9yZk0sLtNnIuOdJ8Te4wVxY3c")
        .is_none());
}
