// Study timing (学时): a playback session on the server, heartbeats while the page is open.
// The server's clock decides what counts; this script reports what the learner is doing,
// keeps the player within the rules (no skipping ahead, normal speed only, nothing while the
// page is hidden or out of focus) and shows, at all times, whether study time is counted.
// player.js attaches the video (native HLS or hls.js); this script only listens to it.
(function () {
  "use strict";
  var root = document.getElementById("study");
  if (!root || !window.fetch) return;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content;
  var msg = root.dataset;
  var isVideo = msg.kind === "video";
  var video = isVideo ? document.getElementById("lesson-video") : null;
  var frame = isVideo ? null : document.querySelector(".document-viewer iframe");
  if (isVideo && !video) return;

  var ui = {
    state: root.querySelector(".study-state"),
    reason: root.querySelector(".study-reason"),
    notice: root.querySelector(".study-notice"),
    meter: root.querySelector(".study-meter"),
    fill: root.querySelector(".study-meter .progress-fill"),
    lessonProgress: root.querySelector(".study-lesson-progress"),
    credited: root.querySelector(".study-credited"),
    courseProgress: root.querySelector(".study-course-progress"),
    takeOver: root.querySelector(".study-take-over"),
    done: root.querySelector(".study-done"),
  };

  var MAX_BACKOFF = 30; // seconds
  var SEEK_SLACK = 1; // seconds past the furthest point a seek may land
  var UNCOUNTED_SLACK = 0.25; // seconds played but not counted that need no re-watching
  var SOON = 0.6; // an early heartbeat waits this share of the interval (the server's floor is 0.5)

  // -- state ---------------------------------------------------------------------------------
  var s = {
    id: null, // playback session id
    generation: 0, // bumps with every new session, so late replies of an old one are ignored
    interval: 15,
    rates: [1.0],
    seq: 0,
    furthest: 0,
    resume: 0,
    target: 0,
    ratio: 0,
    lessonCreditedAtStart: 0,
    lessonCredited: 0,
    lessonComplete: false,
    courseComplete: false,
    dailyRemaining: null,
    stopped: null, // why heartbeats stopped: superseded, ended, signed-out, not-recorded
    failures: 0, // consecutive network/server failures (backoff)
    offlineWait: 0,
    outstanding: null, // the payload being sent (or waiting to be sent again)
    urgent: false, // send the next heartbeat as soon as the server will take it
    lastSentAt: 0, // performance.now() of the last send
    anchoredAt: 0, // ... of the last send the server anchored (not too_frequent)
    timer: null,
    played: false, // the video played (or the document was read) since the last heartbeat
    pauseCause: "press-play", // why the video is paused: press-play, paused, hidden, blurred; null: playing
    // documents: visible reading seconds in this session
    reading: 0,
    readingSince: null,
  };

  // -- helpers -------------------------------------------------------------------------------
  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? values[key] : whole;
    });
  }

  function duration(seconds) {
    var total = Math.max(0, Math.floor(seconds || 0));
    return fill(msg.msgDuration, { m: Math.floor(total / 60), s: ("0" + (total % 60)).slice(-2) });
  }

  function request(url, body) {
    var headers = { "X-CSRFToken": csrf, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, {
      method: "POST",
      headers: headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : {}; } catch (e) { data = null; }
        // Signed out: the site answers with its sign-in page instead of JSON, or refuses the
        // CSRF token of a sign-in session that is gone (400: our API has no other use for it).
        var status = response.status;
        if ((data === null && response.redirected) || status === 400) status = 401;
        return { status: status, data: data || {} };
      });
    });
  }

  function sessionUrl(suffix) {
    return msg.sessionsUrl.replace(/\/$/, "") + "/" + encodeURIComponent(s.id) + suffix;
  }

  function pageVisible() {
    return document.visibilityState === "visible";
  }

  // In focus: the document or one of its frames (the PDF viewer) has the focus.
  function pageFocused() {
    return document.hasFocus() || (frame !== null && document.activeElement === frame);
  }

  function attentive() {
    return pageVisible() && pageFocused();
  }

  // Documents: the reading seconds of this session, counted on from where the server's
  // session starts (resume_position, the lesson's last position; 0 for a fresh lesson), so
  // that a later session's time extends the lesson's coverage rather than overlapping it.
  function position() {
    if (isVideo) return video.currentTime || 0;
    accrue();
    return s.resume + s.reading;
  }

  function videoPlaying() {
    return !video.paused && !video.ended;
  }

  // Documents: reading time accrues while the page is visible and in focus.
  function accrue() {
    if (isVideo) return;
    var now = performance.now();
    if (s.readingSince !== null) s.reading += (now - s.readingSince) / 1000;
    var counting = s.id !== null && !s.stopped && attentive();
    s.readingSince = counting ? now : null;
    if (counting) s.played = true;
  }

  // -- the status bar ------------------------------------------------------------------------
  function timing() {
    if (!s.id || s.stopped || s.failures || s.lessonComplete) return false;
    if (s.dailyRemaining !== null && s.dailyRemaining <= 0) return false;
    if (!attentive()) return false;
    return isVideo ? videoPlaying() && s.pauseCause === null : true;
  }

  function whyNot() {
    if (s.stopped) {
      var key = "msg" + s.stopped.replace(/(^|-)(\w)/g, function (_w, _d, c) { return c.toUpperCase(); });
      return msg[key]; // msgSuperseded, msgEnded, msgSignedOut, msgNotRecorded
    }
    if (!s.id && !s.failures) return msg.msgConnecting;
    if (s.failures) return fill(msg.msgOffline, { s: s.offlineWait });
    if (s.lessonComplete) return msg.msgComplete;
    if (s.dailyRemaining !== null && s.dailyRemaining <= 0) return msg.msgDailyCap;
    if (!pageVisible()) return msg.msgHidden;
    if (!pageFocused()) return msg.msgBlurred;
    if (isVideo) {
      // Paused while the learner was away, or by them: either way, playing again is theirs.
      if (s.pauseCause === "press-play" || video.ended) return msg.msgPressPlay;
      if (s.pauseCause === "hidden" || s.pauseCause === "blurred") return msg.msgAway;
      return msg.msgPaused;
    }
    return "";
  }

  function render() {
    var on = timing();
    var problem = Boolean(s.stopped || s.failures);
    root.classList.toggle("is-timing", on);
    root.classList.toggle("is-paused", !on && !problem);
    root.classList.toggle("is-problem", !on && problem);
    root.classList.remove("is-waiting");
    root.setAttribute("data-state", on ? "timing" : problem ? "problem" : "paused");
    var label = on ? msg.msgTiming : msg.msgNotTiming;
    var reason = on ? "" : whyNot() || "";
    if (ui.state.textContent !== label) ui.state.textContent = label;
    if (ui.reason.textContent !== reason) ui.reason.textContent = reason;
    ui.takeOver.hidden = !(s.stopped === "superseded" || s.stopped === "ended");
    renderFigures();
  }

  function renderFigures() {
    if (!s.id && !s.target) return;
    var percent = Math.max(0, Math.min(100, s.ratio * 100));
    ui.fill.style.width = percent.toFixed(1) + "%";
    ui.meter.setAttribute("aria-valuenow", String(Math.floor(percent)));
    ui.lessonProgress.textContent = isVideo
      ? fill(msg.msgLessonProgress, { p: Math.floor(percent) + "%" })
      : fill(msg.msgReading, { done: duration(s.ratio * s.target), target: duration(s.target) });
    ui.credited.textContent = fill(msg.msgCredited, { time: duration(s.lessonCredited) });
    root.setAttribute("data-credited-seconds", String(s.lessonCredited));
    root.setAttribute("data-covered-ratio", String(s.ratio));
    var total = Number(msg.totalLessons);
    if (total > 0) {
      var doneCount = Math.min(total, Number(msg.completedLessons) || 0);
      if (s.courseComplete) doneCount = total;
      ui.courseProgress.textContent = fill(msg.msgCourseProgress, { done: doneCount, total: total });
    }
  }

  var noticeTimer = null;
  function notice(text) {
    ui.notice.textContent = text;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(function () { ui.notice.textContent = ""; }, 6000);
  }

  function showDone() {
    var box = ui.done;
    if (!s.lessonComplete) return;
    box.hidden = false; // shown before it is filled, so that screen readers announce it
    box.textContent = "";
    var p = document.createElement("p");
    p.textContent = msg.msgLessonDone;
    box.appendChild(p);
    if (s.courseComplete) {
      var q = document.createElement("p");
      q.className = "study-course-done";
      q.appendChild(document.createTextNode(msg.msgCourseDone + " "));
      var link = document.createElement("a");
      link.href = msg.hoursUrl;
      link.textContent = msg.msgHoursLink;
      q.appendChild(link);
      box.appendChild(q);
    }
  }

  // -- what the server says --------------------------------------------------------------------
  function absorb(data) {
    if (typeof data.lesson_covered_ratio === "number") s.ratio = data.lesson_covered_ratio;
    if (typeof data.furthest_position === "number" && data.furthest_position > s.furthest) {
      s.furthest = data.furthest_position;
    }
    if (typeof data.daily_remaining_seconds === "number") s.dailyRemaining = data.daily_remaining_seconds;
    if (typeof data.lesson_credited_seconds === "number") {
      s.lessonCredited = data.lesson_credited_seconds;
    } else if (typeof data.session_credited_seconds === "number") {
      s.lessonCredited = s.lessonCreditedAtStart + data.session_credited_seconds;
    }
    var wasComplete = s.lessonComplete;
    var wasCourseComplete = s.courseComplete;
    s.lessonComplete = Boolean(data.lesson_complete);
    s.courseComplete = Boolean(data.course_complete);
    if (s.lessonComplete && !wasComplete && s.generation > 0 && s.seq > 0) {
      msg.completedLessons = String((Number(msg.completedLessons) || 0) + 1);
    }
    if (s.lessonComplete !== wasComplete || s.courseComplete !== wasCourseComplete) showDone();
  }

  // -- sessions --------------------------------------------------------------------------------
  function start() {
    if (s.starting) return;
    s.starting = true;
    clearTimeout(s.timer);
    s.id = null;
    s.stopped = null;
    s.outstanding = null;
    s.urgent = false;
    render();
    request(msg.sessionsUrl, { lesson_id: Number(msg.lessonId) }).then(function (r) {
      s.starting = false;
      if (r.status === 201 && r.data.session_id) {
        s.failures = 0;
        opened(r.data);
      } else if (r.status === 401) {
        refuse("signed-out");
      } else if (r.status >= 500 || r.status === 429) {
        retryStart();
      } else {
        refuse("not-recorded", r.data.error);
      }
    }, function () {
      s.starting = false;
      retryStart();
    });
  }

  function retryStart() {
    backoff(start);
  }

  function backoff(again) {
    s.failures += 1;
    s.offlineWait = Math.min(MAX_BACKOFF, Math.pow(2, s.failures - 1));
    render();
    clearTimeout(s.timer);
    s.timer = setTimeout(again, s.offlineWait * 1000);
  }

  function opened(data) {
    s.generation += 1;
    s.id = data.session_id;
    s.seq = 0;
    s.interval = Math.max(1, Number(data.heartbeat_interval) || 15);
    s.rates = data.allowed_rates && data.allowed_rates.length ? data.allowed_rates : [1.0];
    s.resume = Number(data.resume_position) || 0;
    s.furthest = Number(data.furthest_position) || 0;
    s.target = Number(data.target_seconds) || 0;
    s.lessonCreditedAtStart = Number(data.lesson_credited_seconds) || 0;
    s.lessonCredited = s.lessonCreditedAtStart;
    s.lessonComplete = false;
    s.courseComplete = false;
    absorb(data);
    s.played = false;
    s.reading = 0;
    s.readingSince = null;
    s.lastSentAt = s.anchoredAt = performance.now();
    if (isVideo) {
      enforceRate();
      // Resume where the learner left off (the server's last position: within the furthest).
      var resumeAt = s.resume;
      if (video.duration && resumeAt >= video.duration - 1) resumeAt = 0;
      if (Math.abs(video.currentTime - resumeAt) > 0.5) seekTo(resumeAt);
    } else {
      accrue();
    }
    showDone();
    render();
    schedule(s.interval);
  }

  function refuse(why, detail) {
    s.stopped = why;
    clearTimeout(s.timer);
    render();
    if (detail) notice(detail);
  }

  // The learner (or another tab) ended this session: stop and offer to study here again.
  function gone(reason) {
    s.stopped = reason === "ended" ? "ended" : "superseded";
    s.outstanding = null;
    clearTimeout(s.timer);
    if (isVideo && videoPlaying()) {
      s.pauseCause = "paused";
      video.pause();
    }
    accrue();
    render();
  }

  function end() {
    if (!s.id || s.stopped) return;
    var url = sessionUrl("/end");
    s.stopped = "ended";
    clearTimeout(s.timer);
    try {
      fetch(url, {
        method: "POST",
        keepalive: true,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf },
      }).catch(function () {});
    } catch (e) { /* the page is going away */ }
  }

  // -- heartbeats ------------------------------------------------------------------------------
  function schedule(seconds) {
    clearTimeout(s.timer);
    s.timer = setTimeout(beat, Math.max(0, seconds * 1000));
  }

  // Send a heartbeat soon: now if the server will anchor it, else once it will.
  function soon() {
    if (!s.id || s.stopped) return;
    if (s.outstanding) { s.urgent = true; return; }
    var wait = s.anchoredAt + SOON * s.interval * 1000 - performance.now();
    schedule(Math.max(0, wait / 1000));
  }

  function snapshot() {
    var playing;
    if (isVideo) {
      // "playing" speaks for the time since the last heartbeat: a video paused (or ended) a
      // moment ago still played most of it, and the server credits no more than it advanced.
      playing = videoPlaying() || s.played;
      s.played = videoPlaying();
    } else {
      accrue();
      playing = s.played;
      s.played = s.readingSince !== null;
    }
    s.seq += 1;
    return {
      seq: s.seq,
      position: Math.round(position() * 1000) / 1000,
      playing: playing,
      rate: isVideo ? video.playbackRate : 1.0,
      visible: attentive(),
    };
  }

  // One heartbeat at a time: never while another payload is on its way or waiting to retry.
  function beat() {
    if (!s.id || s.stopped || s.outstanding) return;
    clearTimeout(s.timer);
    s.outstanding = snapshot();
    send(s.outstanding, s.generation);
  }

  function send(payload, generation) {
    s.lastSentAt = performance.now();
    var sentAt = s.lastSentAt;
    request(sessionUrl("/heartbeats"), payload).then(function (r) {
      if (generation !== s.generation || s.stopped) return;
      if (r.status === 200) {
        s.failures = 0;
        s.outstanding = null;
        replied(r.data, payload, sentAt);
      } else if (r.status === 409) {
        gone(r.data.reason);
      } else if (r.status === 401) {
        refuse("signed-out");
      } else if (r.status === 403 || r.status === 404) {
        refuse("not-recorded", r.data.error);
      } else if (r.status === 422) {
        // Our mistake, not the learner's: drop this payload, the next one has a new seq.
        s.outstanding = null;
        if (window.console) console.warn("heartbeat refused:", r.data.error);
        next();
      } else {
        backoff(function () { resend(payload, generation); });
      }
    }, function () {
      if (generation !== s.generation || s.stopped) return;
      backoff(function () { resend(payload, generation); });
    });
  }

  // After a failure, report the present (new seq, current position) rather than the stale
  // payload: the server measures from its own last heartbeat, so nothing is counted twice,
  // and a late, stale position would look like a skip ahead when the network comes back.
  function resend(failed, generation) {
    var fresh = snapshot();
    fresh.playing = fresh.playing || failed.playing;
    s.outstanding = fresh;
    send(fresh, generation);
  }

  function next() {
    if (s.urgent) {
      s.urgent = false;
      soon();
    } else {
      var elapsed = (performance.now() - s.lastSentAt) / 1000;
      schedule(s.interval - elapsed);
    }
  }

  function replied(data, payload, sentAt) {
    var reason = data.reason || "ok";
    if (reason === "too_frequent" || reason === "replay") {
      s.played = s.played || payload.playing; // this stretch is still to be reported
    } else {
      s.anchoredAt = sentAt;
    }
    absorb(data);
    if (isVideo) recoverFurthest(data, reason);
    if (reason === "rate") notice(msg.msgRate);
    render();
    next();
  }

  // Time the server did not count cannot carry the learner ahead: return to the furthest point
  // it did count, where timing goes on (the server refuses positions beyond it as skips).
  function recoverFurthest(data, reason) {
    if (typeof data.furthest_position !== "number") return;
    if (reason !== "jump" && reason !== "hidden" && reason !== "rate") return;
    s.furthest = data.furthest_position;
    if (video.currentTime > s.furthest + UNCOUNTED_SLACK) {
      seekTo(s.furthest);
      if (reason === "jump") notice(msg.msgJump);
      soon();
    }
  }

  // -- the video -------------------------------------------------------------------------------
  var ownSeek = false;
  var lastTime = 0;

  function seekTo(time) {
    ownSeek = true;
    video.currentTime = time;
    lastTime = time;
  }

  function enforceRate() {
    var rate = video.playbackRate;
    var ok = s.rates.some(function (allowed) { return Math.abs(allowed - rate) < 1e-6; });
    if (ok) return;
    var normal = s.rates.indexOf(1) >= 0 ? 1 : s.rates[0];
    video.defaultPlaybackRate = normal;
    video.playbackRate = normal;
    notice(msg.msgRate);
  }

  function setupVideo() {
    video.addEventListener("loadedmetadata", function () {
      if (!s.id && !s.starting && !s.stopped) start();
    });
    if (video.readyState >= 1) start();

    video.addEventListener("seeking", function () {
      var now = video.currentTime;
      if (ownSeek) { ownSeek = false; lastTime = now; return; }
      if (s.id && !s.stopped && now > s.furthest + SEEK_SLACK) {
        seekTo(s.furthest);
        notice(msg.msgSeek);
        return;
      }
      lastTime = now;
    });

    // The furthest point grows with normal playback from within what was already reached.
    video.addEventListener("timeupdate", function () {
      var now = video.currentTime;
      if (!video.seeking && videoPlaying() && now >= lastTime && now - lastTime < 2 &&
          lastTime <= s.furthest + SEEK_SLACK) {
        if (now > s.furthest) s.furthest = now;
      }
      if (!video.seeking) lastTime = now;
      if (videoPlaying()) s.played = true;
    });

    video.addEventListener("ratechange", function () {
      if (s.id) enforceRate();
    });

    video.addEventListener("play", function () {
      if (!attentive()) {
        // Nobody is watching (another window has the focus): do not start.
        video.pause();
        return;
      }
      s.pauseCause = null;
      s.played = true;
      render();
    });
    video.addEventListener("playing", render);
    video.addEventListener("pause", function () {
      if (s.pauseCause === null) s.pauseCause = "paused";
      render();
    });
    video.addEventListener("ended", function () {
      if (video.currentTime > s.furthest) s.furthest = video.currentTime;
      render();
      soon(); // report the last stretch (and so the completion) as soon as the server takes it
    });
    // player.js could not load the video: there is nothing to time.
    video.addEventListener("zhixin:player-error", function () {
      if (!s.id) refuse("not-recorded");
    });
  }

  // -- attention: visibility and focus ----------------------------------------------------------
  function lostAttention(cause) {
    if (isVideo) {
      if (videoPlaying()) {
        s.pauseCause = cause;
        video.pause();
      }
    } else {
      accrue();
    }
    render();
    if (s.id && !s.stopped) {
      // Tell the server right away that nobody is looking (one request at a time, though).
      if (s.outstanding) s.urgent = true;
      else beat();
    }
  }

  function regainedAttention() {
    if (!isVideo) {
      if (!s.id && !s.starting && !s.stopped && pageVisible()) start();
      accrue();
    }
    render();
  }

  document.addEventListener("visibilitychange", function () {
    if (pageVisible()) regainedAttention();
    else lostAttention("hidden");
  });
  window.addEventListener("blur", function () {
    // Focus moving into the document's own frame is no loss of attention: check afterwards.
    setTimeout(function () {
      if (!pageFocused()) lostAttention("blurred");
      else accrue();
    }, 0);
  });
  window.addEventListener("focus", regainedAttention);

  window.addEventListener("pagehide", function () {
    accrue();
    end();
  });
  window.addEventListener("pageshow", function (event) {
    // Back from the back/forward cache: the old session was ended on the way out.
    if (event.persisted && s.stopped === "ended") start();
  });

  ui.takeOver.addEventListener("click", function () {
    ui.takeOver.hidden = true;
    s.failures = 0;
    start();
  });

  // Documents: keep the reading time display moving between heartbeats.
  if (!isVideo) {
    setInterval(function () {
      accrue();
      render();
    }, 1000);
  }

  if (isVideo) setupVideo();
  else if (pageVisible()) start();
  render();
})();
