/** The tab strip of the view (WAI-ARIA tabs: click, ArrowLeft / ArrowRight between tabs). */
import { keepKeys, Maker, P } from './dom';

interface ITab {
  tab: HTMLButtonElement;
  panel: HTMLElement;
  fill?: () => void;
}

export class Tabs {
  /** The tab list; each panel is appended to ``container`` after the ones before it. */
  readonly list: HTMLElement;

  constructor(
    private el: Maker,
    private container: HTMLElement
  ) {
    this.list = el('div', `${P}-tabs`);
    this.list.setAttribute('role', 'tablist');
    container.append(this.list);
  }

  /** Adds a tab; ``fill``, when given, builds the panel's content when the tab is first shown. */
  add(key: string, label: string, panel: HTMLElement, fill?: () => void): void {
    const index = this.tabs.length;
    const tab = this.el('button', `${P}-tab`, label);
    tab.type = 'button';
    keepKeys(tab);
    tab.setAttribute('role', 'tab');
    tab.dataset.tab = key;
    panel.setAttribute('role', 'tabpanel');
    panel.dataset.tab = key;
    panel.classList.add(`${P}-panel`);
    tab.addEventListener('click', () => this.select(index));
    tab.addEventListener('keydown', (event: KeyboardEvent) => {
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step) {
        event.preventDefault();
        this.select((index + step + this.tabs.length) % this.tabs.length, true);
      }
    });
    this.list.append(tab);
    this.container.append(panel);
    this.tabs.push({ tab, panel, fill });
  }

  /** Shows the tab at ``index`` (filling its panel the first time), hides the others. */
  select(index: number, focus = false): void {
    this.tabs.forEach((entry, i) => {
      const on = i === index;
      entry.tab.setAttribute('aria-selected', String(on));
      entry.tab.tabIndex = on ? 0 : -1;
      entry.panel.hidden = !on;
      if (on && entry.fill) {
        entry.fill();
        entry.fill = undefined;
      }
    });
    if (focus) {
      this.tabs[index].tab.focus();
    }
  }

  private tabs: ITab[] = [];
}
