/**
 * The shared table: columns as data, an optional checkbox column for selecting rows. On a phone
 * each row becomes a card, every cell under its header (data-label, styles.css), so a table
 * never scrolls sideways there; `stack={false}` keeps the rows (a narrow table that fits).
 */
import type { ReactNode } from "react";

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  className?: string;
}

export interface DataTableProps<T> {
  label: string;
  rows: readonly T[];
  columns: readonly Column<T>[];
  rowKey: (row: T) => string;
  empty?: string;
  /** Extra classes for the table, e.g. fixed-height rows. */
  className?: string;
  /** One card per row on a phone (the default). */
  stack?: boolean;
  /** With these, each row gets a checkbox. */
  selected?: ReadonlySet<string>;
  onSelect?: (keys: Set<string>) => void;
}

export function DataTable<T>({
  label,
  rows,
  columns,
  rowKey,
  empty,
  className,
  stack = true,
  selected,
  onSelect,
}: DataTableProps<T>) {
  const selectable = selected !== undefined && onSelect !== undefined;
  const allSelected = selectable && rows.length > 0 && rows.every((r) => selected.has(rowKey(r)));
  const toggle = (key: string) => {
    if (!selectable) return;
    const next = new Set(selected);
    if (next.has(key)) next.delete(key);
    else next.add(key);
    onSelect(next);
  };
  return (
    // No name of its own: the table inside is named, and a second name containing it would make
    // the label ambiguous (getByLabel finds both); a screen reader reads the table on focus.
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a table wider than a phone scrolls sideways, and a keyboard must reach it to scroll it (axe scrollable-region-focusable)
    <div className="table-scroll" tabIndex={0}>
      <table
        className={["data-table", stack && "stack-narrow", className].filter(Boolean).join(" ")}
        aria-label={label}
      >
        <thead>
          <tr>
            {selectable && (
              <th className="select">
                <input
                  type="checkbox"
                  aria-label="select all rows"
                  checked={allSelected}
                  onChange={() => onSelect(allSelected ? new Set() : new Set(rows.map(rowKey)))}
                />
              </th>
            )}
            {columns.map((c) => (
              <th key={c.header} className={c.className}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 && (
            <tr>
              <td colSpan={columns.length + (selectable ? 1 : 0)} className="empty">
                {empty ?? "Nothing here."}
              </td>
            </tr>
          )}
          {rows.map((row) => {
            const key = rowKey(row);
            return (
              <tr key={key} data-key={key}>
                {selectable && (
                  <td className="select" data-label="Select">
                    <input
                      type="checkbox"
                      aria-label={`select ${key}`}
                      checked={selected.has(key)}
                      onChange={() => toggle(key)}
                    />
                  </td>
                )}
                {columns.map((c) => (
                  // The header again, for a table that stacks each row into a card on a phone (stack-narrow).
                  <td key={c.header} className={c.className} data-label={c.header}>
                    {c.cell(row)}
                  </td>
                ))}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
