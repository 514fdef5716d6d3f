// The register's QR scanner: the phone's camera in the page (getUserMedia), read with the browser's own
// BarcodeDetector where it reads QR codes, and otherwise with the same API from the barcode-detector package
// (ZXing compiled to WebAssembly), both served by the app itself and kept by the service worker for offline use.
(function () {
  "use strict";
  var WASM_URL = "/assets/vendor/zxing_reader.wasm";
  var INTERVAL_MS = 200;

  function detectorClass() {
    if (window.BarcodeDetectionAPI && window.BarcodeDetectionAPI.BarcodeDetector) {
      window.BarcodeDetectionAPI.setZXingModuleOverrides({
        locateFile: function (path, prefix) { return /\.wasm$/.test(path) ? WASM_URL : prefix + path; }
      });
    }
    var own = window.BarcodeDetector;
    if (own && typeof own.getSupportedFormats === "function") {
      return own.getSupportedFormats().then(function (formats) {
        return formats.indexOf("qr_code") !== -1 ? own : window.BarcodeDetectionAPI.BarcodeDetector;
      }, function () { return window.BarcodeDetectionAPI.BarcodeDetector; });
    }
    return Promise.resolve(window.BarcodeDetectionAPI && window.BarcodeDetectionAPI.BarcodeDetector);
  }

  window.TavoliScanner = {
    available: function () {
      return !!(navigator.mediaDevices && navigator.mediaDevices.getUserMedia
        && (window.BarcodeDetector || window.BarcodeDetectionAPI));
    },
    // Start the camera in `video`; `onText(text)` for each code read, `onState(true|false)` once the camera is
    // on or refused. Returns the function that stops it.
    start: function (video, onText, onState) {
      var stream = null;
      var timer = null;
      var stopped = false;
      var busy = false;
      function stop() {
        stopped = true;
        if (timer) { window.clearInterval(timer); }
        if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
        video.srcObject = null;
      }
      Promise.all([
        navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
        detectorClass()
      ]).then(function (parts) {
        if (stopped) { parts[0].getTracks().forEach(function (track) { track.stop(); }); return; }
        stream = parts[0];
        var detector = new parts[1]({ formats: ["qr_code"] });
        video.srcObject = stream;
        video.setAttribute("playsinline", "");
        video.muted = true;
        return video.play().then(function () {
          onState(true);
          timer = window.setInterval(function () {
            if (busy || stopped || video.readyState < 2) { return; }
            busy = true;
            detector.detect(video).then(function (codes) {
              busy = false;
              if (codes && codes.length && codes[0].rawValue) { onText(codes[0].rawValue); }
            }, function () { busy = false; });
          }, INTERVAL_MS);
        });
      }).catch(function () { stop(); onState(false); });
      return stop;
    }
  };
})();
