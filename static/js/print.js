// The leave-behind's Print button (no inline handlers under the CSP).
document.getElementById("print-button")?.addEventListener("click", () => window.print());
