// Registers the service worker (theming/templates/theming/sw.js) for the whole site: it
// shows the offline page without a connection, and push notifications when turned on.
(() => {
  const script = document.currentScript;
  if (!("serviceWorker" in navigator) || !script) return;
  navigator.serviceWorker.register(script.dataset.serviceWorker, {scope: "/"});
})();
