// One color per pod IP, the same in every chart and in the pods table (Okabe and Ito's palette,
// which stays distinct for color-blind readers).
const PALETTE = ['#0072b2', '#e69f00', '#009e73', '#cc79a7', '#56b4e9', '#d55e00', '#7f7f7f', '#000000'];

/** Pods get .8, .9, … of their network: consecutive pods get different colors. */
export function colorOf(ip: string): string {
  return PALETTE[(Number(ip.split('.').at(-1)) || 0) % PALETTE.length] as string;
}
