/**
 * Texts for parity checks: everything a caller may send. Deterministic; no randomness.
 * At least 200 entries across ASCII, accents, CJK, emoji, URLs, whitespace-only, empty and over-long.
 */
const events = [
  'Jazz night at the Blue Room', 'Farmers market on Saturday morning', 'Python meetup: async patterns',
  'Yoga in the park (bring a mat)', 'City council open session', 'Kids coding workshop, ages 8-12',
  'Half marathon registration closes Friday', 'Book club discusses "Middlemarch"', 'Community garden volunteer day',
  'Open mic comedy — sign up at 7pm', 'Salsa lessons for beginners', 'Board game night at the library',
  'Photography walk downtown', 'Wine tasting: Loire Valley whites', 'Startup pitch night #42',
  'Free flu shots at the clinic', 'Trivia Tuesday at O\'Malley\'s', 'Outdoor movie: The Princess Bride',
  'Chess tournament (rated, 90+30)', 'Gardening Q&A with master gardeners',
];
const accents = [
  'Café crème à la française', 'Niño jugando en el jardín', 'Über die Brücke gehen', 'Ångström und Ölfässer',
  'São Paulo é incrível', 'Crème brûlée façile', 'naïve coöperation résumé', 'Łódź, Kraków, Gdańsk',
  'Ελληνικά γράμματα', 'Русский текст для проверки', 'Türkçe karakterler: ğüşıöç', 'Tiếng Việt có dấu',
];
const cjk = [
  '東京で音楽イベントがあります', '北京的天气很好', '서울에서 열리는 축제', '日本語と English の混在',
  '机器学习模型的嵌入向量', '今日は晴れです。明日は雨でしょう。', '한국어 문장 임베딩 테스트', '中文，标点。符号！',
];
const emoji = [
  '🎉 Party tonight! 🎶', 'Coffee ☕ and code 💻', '👨‍👩‍👧‍👦 family day', '🏳️‍🌈 pride parade', 'Rocket 🚀🚀🚀 launch',
  'Thumbs 👍🏽 up', '❤️🔥', 'flags 🇺🇸🇫🇷🇯🇵', '😀😃😄😁😆😅😂🤣', 'math ∑ ∫ √ ∞ ≈ ≠',
];
const urls = [
  'https://example.com/events?id=123&ref=newsletter', 'Visit www.superschedules.local/calendar for details',
  'mailto:events@example.org', 'http://127.0.0.1:8003/health', 'See https://en.wikipedia.org/wiki/Sentence_embedding',
  'ftp://files.example.net/pub/README.txt', 'user@example.com wrote: hello', '#hashtag @mention $cashtag',
];
const whitespace = [' ', '   ', '\t', '\n', '\r\n', ' \t \n ', '\u00a0', '\u3000', '\u200b'];
const edge = ['', 'a', 'A', '.', '?!', '[CLS]', '[SEP] [PAD] [MASK]', '<html><body>Hi</body></html>', 'x'.repeat(150), 'supercalifragilisticexpialidocious', '12345 67890', 'ALL CAPS SENTENCE HERE', 'MiXeD CaSe TeXt', 'tab\tseparated\tvalues', 'line one\nline two\nline three', 'control\u0001chars\u0007here', 'null\u0000byte'];

const longBase = 'The quick brown fox jumps over the lazy dog while the city council debates the new park budget and residents line up for the farmers market. ';
const long = [
  longBase.repeat(12),
  'word '.repeat(300),
  'München Straße Café '.repeat(60),
  '東京大阪京都'.repeat(80),
  '🎉 celebrate '.repeat(120),
  Array.from({ length: 400 }, (_, i) => `token${i}`).join(' '),
  'https://example.com/a/very/long/path/segment '.repeat(40),
  longBase.repeat(6) + ' end of a medium length description.',
];

function sentences(): string[] {
  const subjects = ['The museum', 'Our team', 'A local chef', 'The orchestra', 'Volunteers', 'The science club', 'Neighbors', 'The mayor'];
  const verbs = ['hosts', 'presents', 'organizes', 'celebrates', 'announces', 'welcomes everyone to'];
  const objects = ['a night of jazz', 'the spring festival', 'a cooking class', 'an open house', 'a charity run', 'a lecture on astronomy', 'the harvest fair', 'a film screening'];
  const out: string[] = [];
  for (let i = 0; i < 140; i++) {
    const s = subjects[i % subjects.length];
    const v = verbs[(i * 7) % verbs.length];
    const o = objects[(i * 3) % objects.length];
    out.push(i % 5 === 0 ? `${s} ${v} ${o}, followed by a Q&A session and refreshments for all ages.` : `${s} ${v} ${o}.`);
  }
  return out;
}

export const PARITY_CORPUS: readonly string[] = [
  ...events, ...accents, ...cjk, ...emoji, ...urls, ...whitespace, ...edge, ...long, ...sentences(),
];

export const LONG_TEXTS: readonly string[] = long;
