// Every page: the large-text switch (for projectors), remembered in localStorage.
(function () {
  const KEY = "nslab.large";
  const root = document.documentElement;
  if (localStorage.getItem(KEY) === "1") root.classList.add("large");
  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("font-toggle");
    if (!button) return;
    button.setAttribute("aria-pressed", String(root.classList.contains("large")));
    button.addEventListener("click", () => {
      const on = root.classList.toggle("large");
      localStorage.setItem(KEY, on ? "1" : "0");
      button.setAttribute("aria-pressed", String(on));
      window.dispatchEvent(new CustomEvent("nslab:fontscale"));
    });
  });
})();
