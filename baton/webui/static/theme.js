// Set the colour theme before the page paints (loaded in <head> without defer, so a dark page never flashes light).
"use strict";

(function () {
  var theme = localStorage.getItem("baton.theme");
  if (!theme) theme = window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light";
  document.documentElement.setAttribute("data-theme", theme);
})();
