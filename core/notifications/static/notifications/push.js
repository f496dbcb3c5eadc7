// Turning Web Push on and off in this browser (notification settings page): the browser's
// push subscription is sent to, or removed from, /api/v1/notifications/push-subscriptions/.
(() => {
  const box = document.getElementById("push");
  if (!box) return;
  const state = document.getElementById("push-state");
  const on = document.getElementById("push-on");
  const off = document.getElementById("push-off");
  const token = document.querySelector("[name=csrfmiddlewaretoken]");
  box.hidden = false;

  const show = (message, subscribed) => {
    state.textContent = box.dataset[message];
    on.hidden = subscribed !== false;
    off.hidden = subscribed !== true;
  };
  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    show("unsupported", null);
    return;
  }
  const key = () => {
    const text = box.dataset.key.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(text + "=".repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0));
  };
  const send = (method, body) => fetch(box.dataset.api, {
    method, credentials: "same-origin", body: JSON.stringify(body),
    headers: {"Content-Type": "application/json", "X-CSRFToken": token ? token.value : ""},
  }).then((response) => { if (!response.ok) throw new Error(String(response.status)); });

  const ready = navigator.serviceWorker.ready;
  ready.then((registration) => registration.pushManager.getSubscription())
    .then((subscription) => show(subscription ? "on" : "off", Boolean(subscription)));

  on.addEventListener("click", async () => {
    try {
      if (await Notification.requestPermission() !== "granted") { show("denied", false); return; }
      const registration = await ready;
      const subscription = await registration.pushManager.subscribe(
        {userVisibleOnly: true, applicationServerKey: key()});
      await send("POST", subscription.toJSON());
      show("on", true);
      off.focus();
    } catch (error) {
      show("failed", false);
    }
  });
  off.addEventListener("click", async () => {
    try {
      const registration = await ready;
      const subscription = await registration.pushManager.getSubscription();
      if (subscription) {
        await send("DELETE", {endpoint: subscription.endpoint});
        await subscription.unsubscribe();
      }
      show("off", false);
      on.focus();
    } catch (error) {
      show("failed", true);
    }
  });
})();
