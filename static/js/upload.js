// Resumable lesson uploads: the file goes up in chunks (PATCH with Upload-Offset); an
// interrupted upload resumes where the server says it stopped, even after a page reload.
// Then the widget follows the processing job until the file is ready or refused.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content;

  function Widget(root) {
    this.root = root;
    this.input = root.querySelector('input[type="file"]');
    this.button = root.querySelector(".upload-start");
    this.bar = root.querySelector(".progress");
    this.fill = root.querySelector(".progress-fill");
    this.text = root.querySelector(".progress-text");
    this.status = root.querySelector(".upload-status");
    this.msg = root.dataset;
    var self = this;
    this.button.addEventListener("click", function () { self.start(); });
    if (this.msg.followUrl) {  // processing started earlier: keep showing its progress
      this.url = this.msg.followUrl;
      this.follow();
    }
  }

  Widget.prototype.say = function (text, kind) {
    this.status.textContent = text;
    this.status.className = "upload-status" + (kind ? " " + kind : "");
  };

  Widget.prototype.show = function (percent, label) {
    this.bar.hidden = false;
    this.fill.style.width = percent.toFixed(1) + "%";
    this.bar.setAttribute("aria-valuenow", Math.round(percent));
    this.text.textContent = label + " " + percent.toFixed(0) + "%";
  };

  Widget.prototype.request = function (method, url, body, headers) {
    var all = { "X-CSRFToken": csrf, Accept: "application/json" };
    Object.keys(headers || {}).forEach(function (k) { all[k] = headers[k]; });
    return fetch(url, { method: method, body: body, headers: all, credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (text) {
          var data = {};
          try { data = text ? JSON.parse(text) : {}; } catch (e) { data = {}; }
          return { status: response.status, data: data };
        });
      });
  };

  Widget.prototype.storageKey = function (file) {
    return ["zhixin-upload", this.msg.lessonId, file.name, file.size, file.lastModified].join(":");
  };

  Widget.prototype.start = function () {
    var file = this.input.files && this.input.files[0];
    if (!file) { this.say(this.msg.msgChoose, "error"); return; }
    this.file = file;
    this.button.disabled = true;
    this.input.disabled = true;
    var self = this;
    var saved = window.localStorage.getItem(this.storageKey(file));
    var opening = saved
      ? this.request("GET", saved).then(function (r) {
          return r.status === 200 && r.data.status === "receiving" ? { url: saved, data: r.data } : null;
        })
      : Promise.resolve(null);
    opening.then(function (resumed) {
      if (resumed) {
        self.url = resumed.url;
        self.say(self.msg.msgResuming);
        return self.send(resumed.data.offset, resumed.data.chunk_size);
      }
      return self.request(
        "POST", self.msg.startUrl,
        JSON.stringify({ lesson_id: Number(self.msg.lessonId), filename: file.name, size: file.size }),
        { "Content-Type": "application/json" }
      ).then(function (r) {
        if (r.status !== 201) { self.fail(r.data.error || self.msg.msgFailed); return; }
        self.url = r.data.url;
        window.localStorage.setItem(self.storageKey(file), self.url);
        return self.send(0, r.data.chunk_size);
      });
    }).catch(function () { self.retryLater(function () { self.start(); }); });
  };

  Widget.prototype.send = function (offset, chunkSize) {
    var self = this;
    var file = this.file;
    this.show(file.size ? (100 * offset) / file.size : 100, this.msg.msgUploading);
    if (offset >= file.size) return Promise.resolve();
    var chunk = file.slice(offset, Math.min(offset + chunkSize, file.size));
    return this.request("PATCH", this.url, chunk, {
      "Upload-Offset": String(offset),
      "Content-Type": "application/offset+octet-stream",
    }).then(function (r) {
      self.failures = 0;
      if (r.status === 200) {
        if (r.data.status === "complete") {
          window.localStorage.removeItem(self.storageKey(file));
          self.show(100, self.msg.msgUploading);
          return self.follow();
        }
        return self.send(r.data.offset, chunkSize);
      }
      if (r.status === 409 && typeof r.data.offset === "number") {
        return self.send(r.data.offset, chunkSize);  // the server knows better: resume there
      }
      if (r.status >= 500) {
        self.retryLater(function () { self.resync(chunkSize); });
        return;
      }
      window.localStorage.removeItem(self.storageKey(file));
      self.fail(r.data.error || self.msg.msgFailed);
    }, function () {
      self.retryLater(function () { self.resync(chunkSize); });
    });
  };

  Widget.prototype.resync = function (chunkSize) {
    var self = this;
    this.request("GET", this.url).then(function (r) {
      if (r.status === 200) return self.send(r.data.offset, chunkSize);
      self.fail(r.data.error || self.msg.msgFailed);
    }, function () { self.retryLater(function () { self.resync(chunkSize); }); });
  };

  Widget.prototype.retryLater = function (again) {
    this.failures = (this.failures || 0) + 1;
    var wait = Math.min(30, Math.pow(2, this.failures));
    this.say(this.msg.msgOffline.replace("{s}", wait), "warning");
    setTimeout(again, wait * 1000);
  };

  Widget.prototype.follow = function () {
    var self = this;
    return this.request("GET", this.url).then(function (r) {
      var asset = r.data.asset;
      if (!asset) { setTimeout(function () { self.follow(); }, 1500); return; }
      if (asset.status === "ready") {
        self.show(100, self.msg.msgProcessing);
        self.say(self.msg.msgReady, "success");
        self.showResult(asset);
        self.button.disabled = false;
        self.input.disabled = false;
      } else if (asset.status === "failed") {
        self.fail(asset.error || self.msg.msgFailed);
      } else {
        self.show(asset.progress || 0, self.msg.msgProcessing);
        self.say(self.msg.msgProcessingHint);
        setTimeout(function () { self.follow(); }, 1500);
      }
    }, function () { setTimeout(function () { self.follow(); }, 3000); });
  };

  // Replace the lesson's state with the result: a "ready" tag and what was made.
  Widget.prototype.showResult = function (asset) {
    var state = this.root.parentNode.querySelector(".media-state");
    if (!state) return;
    state.textContent = "";
    var tag = document.createElement("span");
    tag.className = "tag tag-media-ready";
    tag.textContent = this.msg.msgReadyTag;
    var details = document.createElement("span");
    details.className = "muted small";
    var parts = [this.file ? this.file.name : ""];
    if (asset.duration_seconds) {
      parts.push((asset.duration_seconds / 60).toFixed(1) + " " + this.msg.msgMinutes);
    }
    if (asset.renditions && asset.renditions.length) parts.push(asset.renditions.join("/") + "p");
    if (asset.page_count) parts.push(asset.page_count + " PDF");
    details.textContent = " " + parts.filter(Boolean).join(" · ");
    state.appendChild(tag);
    state.appendChild(details);
  };

  Widget.prototype.fail = function (message) {
    this.say(message, "error");
    this.button.disabled = false;
    this.input.disabled = false;
  };

  document.querySelectorAll(".media-upload").forEach(function (root) { new Widget(root); });
})();
