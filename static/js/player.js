// Lesson player: native HLS where the browser has it (Safari, iOS), hls.js elsewhere.
// hls.js is loaded only on pages with a video, from the vendored copy.
(function () {
  "use strict";
  var video = document.getElementById("lesson-video");
  if (!video) return;
  var source = video.getAttribute("data-hls-src");
  var errorBox = document.querySelector(".player-error");

  function showError() {
    if (errorBox) errorBox.hidden = false;
    // study.js listens: with nothing to play there is no study time to count.
    video.dispatchEvent(new CustomEvent("zhixin:player-error"));
  }

  if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = source;
    video.addEventListener("error", showError);
    return;
  }
  var script = document.createElement("script");
  script.src = video.getAttribute("data-hls-script");
  script.onload = function () {
    if (!window.Hls || !window.Hls.isSupported()) {
      showError();
      return;
    }
    var hls = new window.Hls({ capLevelToPlayerSize: true });
    hls.on(window.Hls.Events.ERROR, function (_event, data) {
      if (!data.fatal) return;
      if (data.type === window.Hls.ErrorTypes.NETWORK_ERROR) {
        hls.startLoad();  // transient network trouble: try again
      } else if (data.type === window.Hls.ErrorTypes.MEDIA_ERROR) {
        hls.recoverMediaError();
      } else {
        showError();
      }
    });
    hls.loadSource(source);
    hls.attachMedia(video);
  };
  script.onerror = showError;
  document.head.appendChild(script);
})();
