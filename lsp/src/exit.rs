//! Ending the process on `exit`. tower-lsp only stops serving at the next message after `exit`
//! (or at the end of the input), so this layer ends the process itself: status 0 after a
//! `shutdown` request, 1 otherwise, as the protocol asks.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tower_lsp::jsonrpc::{Request, Response};
use tower_lsp::ExitedError;

/// The server's service, ending the process once `exit` is handled.
pub struct ExitOnExit<S> {
    inner: S,
    shut_down: Arc<AtomicBool>,
}

impl<S> ExitOnExit<S> {
    pub fn new(inner: S) -> Self {
        ExitOnExit {
            inner,
            shut_down: Arc::new(AtomicBool::new(false)),
        }
    }
}

type Answer = Pin<Box<dyn Future<Output = Result<Option<Response>, ExitedError>> + Send>>;

impl<S> tower_service::Service<Request> for ExitOnExit<S>
where
    S: tower_service::Service<Request, Response = Option<Response>, Error = ExitedError>,
    S::Future: Send + 'static,
{
    type Response = Option<Response>;
    type Error = ExitedError;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let method = req.method().to_string();
        let answer = self.inner.call(req);
        let shut_down = self.shut_down.clone();
        Box::pin(async move {
            let result = answer.await;
            match method.as_str() {
                "shutdown" if matches!(result, Ok(Some(_))) => {
                    shut_down.store(true, Ordering::SeqCst);
                }
                "exit" => {
                    std::process::exit(if shut_down.load(Ordering::SeqCst) {
                        0
                    } else {
                        1
                    });
                }
                _ => {}
            }
            result
        })
    }
}
