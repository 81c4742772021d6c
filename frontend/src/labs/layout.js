// The first screen's height for the lab grid (layout.css): --grid-top is where the grid starts on
// the page, which moves when the header wraps or a message, the progress bar or a warning shows.

/** Keep the grid's --grid-top up to date; `above` are the elements that can push the grid down. */
export function trackGridTop(grid, above) {
  const measure = () => {
    const top = Math.round(grid.getBoundingClientRect().top + window.scrollY);
    if (grid.style.getPropertyValue("--grid-top") !== `${top}px`) grid.style.setProperty("--grid-top", `${top}px`);
  };
  const observer = new ResizeObserver(measure);
  for (const el of above) observer.observe(el);
  window.addEventListener("resize", measure);
  measure();
}
