//! The support team's tools, under `/v1/admin`: 401 without a token, 403 `admin_only` for anyone
//! signed in who is not on the team. Every change made here is written to the audit log in its own
//! transaction.

use std::future::Future;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{web, FromRequest, HttpRequest};

use super::auth_user::AuthUser;
use super::error::ApiError;
use crate::app::audit::Staff;

pub mod audit_log;
pub mod dead_letters;
pub mod orders;
pub mod tickets;
pub mod users;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.configure(dead_letters::routes)
        .configure(tickets::routes)
        .configure(users::routes)
        .configure(orders::routes)
        .configure(audit_log::routes);
}

/// The caller, a member of the support team, and the request they act in (for the audit log).
pub struct StaffCaller(pub Staff);

impl FromRequest for StaffCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let user = AuthUser::from_request(req, payload);
        let request_id = super::request_id::of(req);
        Box::pin(async move {
            let user = user.await?;
            if !user.is_admin {
                return Err(ApiError::Forbidden {
                    code: "admin_only",
                    detail: "Only the support team may do this.".into(),
                });
            }
            Ok(StaffCaller(Staff {
                id: user.id,
                request_id,
            }))
        })
    }
}
