// Loaded before tf.min.js on the bench page: with this global declared, the regenerator runtime
// bundled in tf.min.js assigns it instead of calling Function(), so the page needs no 'unsafe-eval'.
var regeneratorRuntime;
