//! hyper's [`Timer`] on the runtime's clock.
//!
//! hyper needs a timer for `header_read_timeout`. Its API speaks
//! `std::time::Instant`, so instants are built as a fixed origin plus the
//! runtime's [`now`](crate::runtime::Runtime::now): only differences between
//! them matter, and those follow the runtime's clock (virtual in the simulator).
//! hyper's `Sleep` must be `Sync` while the runtime's sleep future is only
//! `Send`; a `Mutex` makes it `Sync` without ever being contended (polling
//! goes through `&mut`).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};

use crate::runtime::{BoxFuture, Runtime};

/// A hyper timer driven by a [`Runtime`].
#[derive(Clone)]
pub(crate) struct RuntimeTimer {
    rt: Arc<dyn Runtime>,
    /// What runtime time zero maps to. Read once; an opaque reference point.
    origin: Instant,
}

impl RuntimeTimer {
    /// A timer on `rt`'s clock.
    pub(crate) fn new(rt: Arc<dyn Runtime>) -> Self {
        let origin = Instant::now();
        Self { rt, origin }
    }
}

impl Timer for RuntimeTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(RuntimeSleep(Mutex::new(self.rt.sleep(duration))))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn Sleep>> {
        self.sleep(deadline.saturating_duration_since(self.now()))
    }

    fn now(&self) -> Instant {
        // Overflow would need a runtime clock centuries past the origin.
        self.origin
            .checked_add(self.rt.now())
            .unwrap_or(self.origin)
    }
}

/// The runtime's sleep future, made `Sync` for hyper.
struct RuntimeSleep(Mutex<BoxFuture<'static, ()>>);

impl Future for RuntimeSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self
            .get_mut()
            .0
            .get_mut()
            .unwrap_or_else(|e| e.into_inner());
        inner.as_mut().poll(cx)
    }
}

impl Sleep for RuntimeSleep {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::testing::ManualRuntime;

    #[test]
    fn instants_follow_the_runtime_clock() {
        let rt = ManualRuntime::new();
        let timer = RuntimeTimer::new(rt.clone());
        let t0 = timer.now();
        rt.advance(Duration::from_millis(1500));
        assert_eq!(timer.now() - t0, Duration::from_millis(1500));

        let mut sleep = timer.sleep_until(timer.now() + Duration::from_secs(2));
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        rt.advance(Duration::from_millis(1999));
        assert!(sleep.as_mut().poll(&mut cx).is_pending());
        rt.advance(Duration::from_millis(1));
        assert!(sleep.as_mut().poll(&mut cx).is_ready());
    }
}
