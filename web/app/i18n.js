// Interface texts: each key has its Kyrgyz and Russian text, and some an English one: the welcome
// page and every text about what the voter must check or protect (the package fingerprint, the
// receipt, the PIN). Other English texts fall back to Russian. A missing key shows the key itself,
// which the browser test would notice.

export const LANGS = ['ky', 'ru', 'en'];
export const LANG_NAMES = { ky: 'Кыргызча', ru: 'Русский', en: 'English' };

/** key → [Kyrgyz, Russian] or [Kyrgyz, Russian, English]. */
const TEXTS = {
  app_title: ['Добуш — электрондук добуш берүү', 'Добуш — электронное голосование'],
  skip: ['Негизги мазмунга өтүү', 'Перейти к содержанию'],
  nav_home: ['Башкы бет', 'Главная'],
  nav_cabinet: ['Жеке кабинет', 'Личный кабинет'],
  nav_receipt: ['Квитанцияны текшерүү', 'Проверить квитанцию'],
  nav_public: ['Шайлоолор', 'Выборы'],
  nav_assets: ['Тиркемени текшерүү', 'Проверить приложение'],
  lang: ['Тил', 'Язык'],
  welcome: ['Борбордук шайлоо комиссиясынын электрондук жана алыстан добуш берүү системасы. Бюллетень ушул түзмөктө шифрленет: сервер сиздин добушуңузду эч качан көрбөйт.', 'Система электронного и дистанционного голосования Центральной избирательной комиссии. Бюллетень шифруется на этом устройстве: сервер никогда не видит ваш голос.'],
  mobile_path: ['Бул веб-тиркемени сервер берет. Көз карандысыз жол — өзүнчө таратылган мобилдик тиркеме; бул тиркеменин файлдарынын хэштери бюллетендер тактасында жарыяланган.', 'Это веб-приложение выдаёт сервер. Независимый путь — мобильное приложение, распространяемое отдельно; хэши файлов этого приложения опубликованы на доске бюллетеней.'],
  login: ['Түндүк аркылуу кирүү', 'Войти через Тундук'],
  logout: ['Чыгуу', 'Выйти'],
  demo_login: ['Демо кирүү', 'Демо-вход'],
  demo_note: ['Демо шайлоо: Түндүксүз кирүү, добуштар чыныгы эмес.', 'Демонстрационные выборы: вход без Тундука, голоса не настоящие.'],
  loading: ['Жүктөлүүдө…', 'Загрузка…'],
  error: ['Ката', 'Ошибка'],
  retry: ['Кайра аракет кылуу', 'Повторить'],
  back: ['Артка', 'Назад'],
  not_logged_in: ['Кабинетке кирүү үчүн Түндүк аркылуу кириңиз.', 'Чтобы открыть кабинет, войдите через Тундук.'],
  no_campaigns: ['Сиз бир дагы шайлоонун тизмесинде жоксуз.', 'Вас нет в списках ни одних выборов.'],
  campaign_state: ['Абалы', 'Состояние'],
  precinct: ['Участок', 'Участок'],
  deadline: ['Арыз берүүнүн акыркы күнү', 'Последний день подачи заявления'],
  status_evoter: ['Сиз электрондук шайлоочулардын тизмесиндесиз.', 'Вы в списке электронных избирателей.'],
  status_not_evoter: ['Сиз электрондук добуш берүүгө арыз берген жоксуз.', 'Вы не подавали заявление на электронное голосование.'],
  apply: ['Электрондук добуш берүүгө арыз берүү', 'Подать заявление на электронное голосование'],
  reapply: ['Жаңы ачкыч менен кайра арыз берүү', 'Подать заново с новым ключом'],
  withdraw: ['Арызды кайтарып алуу', 'Отозвать заявление'],
  applications_closed: ['Арыз кабыл алуу мөөнөтү бүттү.', 'Приём заявлений закрыт.'],
  credential: ['Шайлоочунун ачкычы', 'Ключ избирателя'],
  fingerprint: ['Ачкычтын издери', 'Отпечаток ключа'],
  cred_on_device: ['Ачкыч ушул түзмөктө сакталган.', 'Ключ хранится на этом устройстве.'],
  cred_not_on_device: ['Ачкыч бул түзмөктө жок. Калыбына келтирүү кодун киргизиңиз.', 'Ключа нет на этом устройстве. Введите код восстановления.'],
  recovery_code: ['Калыбына келтирүү коду', 'Код восстановления'],
  recovery_note: ['Бул кодду жазып алып, коопсуз жерде сактаңыз. Аны менен башка түзмөктөн добуш бере аласыз. Аны эч кимге көрсөтпөңүз.', 'Запишите этот код и храните его в надёжном месте. С ним вы сможете голосовать с другого устройства. Никому его не показывайте.'],
  wrote_it_down: ['Кодду жазып алдым', 'Я записал(а) код'],
  restore: ['Коддон калыбына келтирүү', 'Восстановить по коду'],
  restore_label: ['Калыбына келтирүү коду (29 белги)', 'Код восстановления (29 знаков)'],
  restore_wrong: ['Бул код катталган ачкычка дал келбейт.', 'Этот код не соответствует зарегистрированному ключу.'],
  restored: ['Ачкыч калыбына келтирилди.', 'Ключ восстановлен.'],
  vote: ['Добуш берүү', 'Голосовать'],
  voting_not_open: ['Добуш берүү азырынча ачыла элек же жабылган.', 'Голосование ещё не открыто или уже закрыто.'],
  ballot: ['Бюллетень', 'Бюллетень'],
  against_all: ['Баарына каршы', 'Против всех'],
  blank: ['Бош бюллетень', 'Пустой бюллетень'],
  marks_rule: ['Белгилөө: {min}–{max}', 'Отметок: {min}–{max}'],
  review: ['Текшерүүгө өтүү', 'Перейти к проверке'],
  your_choice: ['Сиздин тандооңуз', 'Ваш выбор'],
  nothing_marked: ['эч нерсе белгиленген жок', 'ничего не отмечено'],
  change: ['Өзгөртүү', 'Изменить'],
  encrypt: ['Шифрлөө', 'Зашифровать'],
  wide_range: ['Бул бюллетенде кеңири диапазондогу талаш бар: ага мобилдик тиркеме аркылуу гана добуш берүүгө болот.', 'В этом бюллетене есть контест с широким диапазоном: голосовать по нему можно только в мобильном приложении.'],
  tracking_code: ['Көзөмөл коду', 'Код отслеживания'],
  encrypted_in: ['Шифрленди: {ms} мс', 'Зашифровано за {ms} мс'],
  cast_or_check: ['Бюллетень шифрленди. Аны жөнөтүңүз же адегенде текшериңиз: текшерилген бюллетень ачылат жана эсептелбейт, андан кийин жаңысы шифрленет.', 'Бюллетень зашифрован. Отправьте его или сначала проверьте: проверенный бюллетень раскрывается и не учитывается, затем шифруется новый.'],
  cast: ['Жөнөтүү', 'Отправить'],
  check: ['Текшерүү (бул бюллетень эсептелбейт)', 'Проверить (этот бюллетень не будет учтён)'],
  checked_title: ['Текшерилген бюллетень ачылды', 'Проверенный бюллетень раскрыт'],
  opened_choices: ['Ачылган тандоо', 'Раскрытый выбор'],
  opened_match: ['Ачылган тандоо сиз тандаганга дал келет.', 'Раскрытый выбор совпадает с вашим.'],
  opened_mismatch: ['ЭСКЕРТҮҮ: ачылган тандоо сиз тандаганга дал келбейт! Бул түзмөктөн добуш бербеңиз.', 'ВНИМАНИЕ: раскрытый выбор не совпадает с вашим! Не голосуйте с этого устройства.'],
  check_elsewhere: ['Муну башка түзмөктө же верификатор менен текшериңиз: ушул кодду же QR-кодду колдонуңуз.', 'Проверьте это на другом устройстве или верификатором: используйте этот код или QR-код.'],
  reencrypt: ['Кайра шифрлөө', 'Зашифровать заново'],
  receipt: ['Квитанция', 'Квитанция'],
  board_position: ['Тактадагы орду', 'Позиция на доске'],
  receipt_ok: ['Квитанция текшерилди: бюллетень кол коюлган тактада турат (Ed25519 колу жана Меркл жолу).', 'Квитанция проверена: бюллетень на подписанной доске (подпись Ed25519 и путь Меркла).'],
  receipt_bad: ['Квитанция текшерүүдөн өткөн жок', 'Квитанция не прошла проверку'],
  save_receipt: ['Квитанция ушул түзмөктө сакталды.', 'Квитанция сохранена на этом устройстве.'],
  receipts_saved: ['Сакталган квитанциялар', 'Сохранённые квитанции'],
  paste_receipt: ['Квитанцияны (JSON) коюңуз', 'Вставьте квитанцию (JSON)'],
  verify: ['Текшерүү', 'Проверить'],
  on_board_now: ['Жазуу тактада ошол эле орунда.', 'Запись на доске на том же месте.'],
  not_on_board_now: ['Тактадагы жазуу квитанцияга дал келбейт!', 'Запись на доске не совпадает с квитанцией!'],
  check_page: ['Текшерилген бюллетенди табуу', 'Найти проверенный бюллетень'],
  check_code: ['Көзөмөл коду (64 он алтылык белги)', 'Код отслеживания (64 шестнадцатеричных знака)'],
  not_found: ['Табылган жок.', 'Не найдено.'],
  turnout: ['Катышуу', 'Явка'],
  e_voters: ['Электрондук шайлоочулар', 'Электронных избирателей'],
  voters_so_far: ['Добуш бергендер', 'Проголосовало'],
  results: ['Жыйынтыктар', 'Итоги'],
  protocol: ['Протокол', 'Протокол'],
  assets_title: ['Тиркеменин файлдарын тактадагы хэштер менен салыштыруу', 'Сравнение файлов приложения с хэшами на доске'],
  asset: ['Файл', 'Файл'],
  served: ['Берилгени', 'Получено'],
  published: ['Жарыяланганы', 'Опубликовано'],
  assets_match: ['Бардык файлдар жарыяланган хэштерге дал келет.', 'Все файлы совпадают с опубликованными хэшами.'],
  assets_mismatch: ['Файлдар жарыяланган хэштерге дал КЕЛБЕЙТ!', 'Файлы НЕ совпадают с опубликованными хэшами!'],
  no_board_assets: ['Бул шайлоонун тактасында тиркеменин хэштери азырынча жок.', 'На доске этих выборов ещё нет хэшей приложения.'],
  choose_campaign: ['Шайлоону тандаңыз', 'Выберите выборы'],
  confirm_withdraw: ['Арызды чын эле кайтарып аласызбы?', 'Точно отозвать заявление?'],
  // The commission pinned in the election package (issue 18, docs/protocol/14-commission.md).
  commission: ['Шайлоо комиссиясы', 'Избирательная комиссия'],
  commission_note: [
    'Бул комиссиянын мүчөлөрү шайлоо пакетинде бекитилген: алардын тизмеси жогорудагы издер менен камтылган.',
    'Члены этой комиссии закреплены в пакете выборов: их список входит в отпечаток выше.'],
  role_chair: ['төрага', 'председатель'],
  role_deputy_chair: ['төраганын орун басары', 'заместитель председателя'],
  role_secretary: ['катчы', 'секретарь'],
  role_member: ['мүчө', 'член комиссии'],
  list_signed_by: ['Шайлоочулардын тизмесине комиссия кол койгон: {names}.', 'Список избирателей подписан комиссией: {names}.'],
  list_not_signed: ['Шайлоочулардын тизмесине бекитилген комиссия кол койгон эмес', 'Список избирателей не подписан закреплённой комиссией'],
  list_unchecked: ['Шайлоочулардын тизмесинин колдорун текшерүү мүмкүн болгон жок', 'Не удалось проверить подписи под списком избирателей'],
  // The election package (issue 18): its fingerprint, and a package switched by the server.
  package_fp: ['Шайлоо пакетинин издери', 'Отпечаток пакета выборов', 'Election package fingerprint'],
  package_fp_note: [
    'Бул издерди шайлоо комиссиясы кагазда жана башка расмий булактарда жарыялаган издер менен салыштырыңыз. Эгер алар дал келбесе, бул тиркеме менен добуш бербеңиз жана комиссияга кабарлаңыз.',
    'Сравните этот отпечаток с тем, что избирательная комиссия публикует на бумаге и в других официальных источниках. Если они не совпадают, не голосуйте в этом приложении и сообщите в комиссию.',
    'Compare this fingerprint with the one the election commission publishes on paper and through its other official channels. If they differ, do not vote with this app and tell the commission.'],
  // The package's re-vote rule, shown with its fingerprint (review 18 round 1, M5).
  re_vote_rule: ['Кайра добуш берүү', 'Повторное голосование', 'Re-voting'],
  re_vote_forbidden: [
    'уруксат жок: бир гана бюллетень кабыл алынат',
    'не допускается: принимается только один бюллетень',
    'not allowed: only one ballot is accepted'],
  re_vote_last_counts: [
    'уруксат: акыркы бюллетень эсепке алынат',
    'допускается: учитывается последний бюллетень',
    'allowed: the last ballot counts'],
  package_switched_title: ['Шайлоо пакети алмаштырылды', 'Пакет выборов подменён', 'The election package was switched'],
  package_switched: [
    'Сервер бул шайлоо үчүн ушул түзмөк мурда кабыл алгандан башка шайлоо пакетин жөнөттү (мурдагы издер: {was}, азыркы: {now}). Бул тиркеме менен добуш бербеңиз жана шайлоо комиссиясына кабарлаңыз.',
    'Сервер прислал для этих выборов другой пакет выборов, чем тот, который это устройство приняло раньше (прежний отпечаток: {was}, новый: {now}). Не голосуйте в этом приложении и сообщите в избирательную комиссию.',
    'The server sent a different election package for this election than the one this device accepted before (earlier fingerprint: {was}, now: {now}). Do not vote with this app; tell the election commission.'],
  // Receipts checked against the ballot this device sent (issue 18).
  receipt_not_mine: [
    'Бул квитанция ушул түзмөк жөнөткөн бюллетенге таандык эмес: сервер сизге башка бирөөнүн квитанциясын көрсөтүүдө. Шайлоо комиссиясына кабарлаңыз.',
    'Эта квитанция не относится к бюллетеню, отправленному с этого устройства: сервер показывает вам чужую квитанцию. Сообщите в избирательную комиссию.',
    'This receipt is not for the ballot this device sent: the server is showing you someone else\'s receipt. Tell the election commission.'],
  receipt_not_from_device: [
    'Бул түзмөктөн бул шайлоодо бюллетень жөнөтүлгөн эмес: квитанция бюллетендин тактада турганын гана көрсөтөт, анын сиздики экенин эмес.',
    'С этого устройства на этих выборах бюллетень не отправлялся: квитанция показывает только, что бюллетень на доске, но не то, что он ваш.',
    'This device sent no ballot in this election: the receipt shows only that the ballot is on the board, not that it is yours.'],
  // The credential under a PIN (issue 18).
  pin_set_title: ['PIN-код тандаңыз', 'Выберите PIN-код', 'Choose a PIN'],
  pin_explain: [
    'Ачкыч ушул түзмөктө сиз гана билген PIN-код менен шифрленип сакталат. Жок дегенде 6 сандан турган PIN тандаңыз (туулган күнүңүздү же 123456 колдонбоңуз). Тиркеме аны ачкыч керек болгондо сурайт: бюллетенди шифрлөөдө жана калыбына келтирүү кодун көрсөтүүдө. PIN эч жерде сакталбайт: аны унутсаңыз, калыбына келтирүү кодун колдонуңуз.',
    'Ключ хранится на этом устройстве зашифрованным PIN-кодом, который знаете только вы. Выберите PIN не короче 6 цифр (не используйте дату рождения или 123456). Приложение спросит его, когда понадобится ключ: чтобы зашифровать бюллетень или показать код восстановления. PIN нигде не сохраняется: если забудете его, воспользуйтесь кодом восстановления.',
    'Your key is kept on this device encrypted under a PIN that only you know. Choose at least 6 digits (not your birth date, not 123456). The app asks for it when it needs the key: to encrypt your ballot or to show the recovery code. The PIN is stored nowhere: if you forget it, use your recovery code.'],
  pin_label: ['PIN (жок дегенде 6 сан)', 'PIN (не меньше 6 цифр)', 'PIN (at least 6 digits)'],
  pin_repeat: ['PIN-кодду кайталаңыз', 'Повторите PIN', 'Repeat the PIN'],
  pin_set: ['PIN-кодду коюу', 'Установить PIN', 'Set the PIN'],
  pin_mismatch: ['PIN-коддор дал келбейт.', 'PIN-коды не совпадают.', 'The two PINs differ.'],
  pin_short: ['PIN жок дегенде 6 сандан турушу керек.', 'PIN должен содержать не меньше 6 цифр.', 'The PIN must have at least 6 digits.'],
  pin_digits: ['PIN сандардан гана турушу керек.', 'PIN должен состоять только из цифр.', 'The PIN must be digits only.'],
  pin_long: ['PIN 32 сандан ашпашы керек.', 'PIN должен быть не длиннее 32 цифр.', 'The PIN can have at most 32 digits.'],
  pin_trivial: [
    'Бул PIN өтө оңой табылат (бир эле сан же катар сандар). Башкасын тандаңыз.',
    'Этот PIN слишком легко угадать (одна и та же цифра или цифры подряд). Выберите другой.',
    'This PIN is too easy to guess (one digit repeated, or a run). Choose another.'],
  pin_enter_title: ['PIN-кодду киргизиңиз', 'Введите PIN-код', 'Enter your PIN'],
  pin_enter_note: ['PIN ушул түзмөктөгү ачкычыңызды ачат.', 'PIN открывает ваш ключ на этом устройстве.', 'Your PIN opens your key on this device.'],
  pin_unlock: ['Ачуу', 'Открыть', 'Unlock'],
  pin_working: ['Иштелүүдө… (бир-эки секунд)', 'Обработка… (пара секунд)', 'Working… (a second or two)'],
  pin_wrong: ['PIN туура эмес. Калган аракеттер: {left}.', 'Неверный PIN. Осталось попыток: {left}.', 'Wrong PIN. Attempts left: {left}.'],
  pin_wait: ['Туура эмес аракеттер өтө көп. {s} секунд күтүңүз.', 'Слишком много неверных попыток. Подождите {s} с.', 'Too many wrong attempts. Wait {s} s.'],
  pin_locked: [
    'Туура эмес PIN өтө көп жолу киргизилди: ачкыч бул түзмөктө бөгөттөлдү. Аны калыбына келтирүү коду менен калыбына келтирип, жаңы PIN коюңуз.',
    'Слишком много неверных PIN: ключ на этом устройстве заблокирован. Восстановите его по коду восстановления и задайте новый PIN.',
    'Too many wrong PINs: the key is locked on this device. Restore it with your recovery code and set a new PIN.'],
  pin_migrate: [
    'Ачкыч бул түзмөктө PIN-кодсуз сакталган (тиркеменин мурдагы версиясы). Аны коргоо үчүн PIN коюңуз.',
    'Ключ хранится на этом устройстве без PIN-кода (прежняя версия приложения). Задайте PIN, чтобы его защитить.',
    'Your key is stored on this device without a PIN (an earlier version of the app). Set a PIN to protect it.'],
  show_recovery: ['Калыбына келтирүү кодун көрсөтүү', 'Показать код восстановления', 'Show the recovery code'],
  cred_wiped: [
    '«{name}» шайлоосунда добуш берүү бүттү: шайлоочунун ачкычы бул түзмөктөн өчүрүлдү.',
    'Голосование на выборах «{name}» окончено: ключ избирателя удалён с этого устройства.',
    'Voting in “{name}” is over: the voter key was deleted from this device.'],
};

const en = {
  app_title: 'Dobush — electronic voting',
  skip: 'Skip to content',
  nav_home: 'Home',
  nav_cabinet: 'Voter cabinet',
  nav_receipt: 'Check a receipt',
  nav_public: 'Elections',
  nav_assets: 'Check the app',
  lang: 'Language',
  welcome: 'The electronic and remote voting system of the Central Election Commission. Your ballot is encrypted on this device: the server never sees your vote.',
  mobile_path: 'This web app is served by the server. The independent path is the separately distributed mobile app; the hashes of the files of this app are published on the bulletin board.',
  login: 'Log in with Tunduk',
};

const pick = (i) => Object.fromEntries(Object.entries(TEXTS).filter(([, v]) => v[i] !== undefined).map(([k, v]) => [k, v[i]]));
const ky = pick(0);
const ru = pick(1);

const DICTS = { ky, ru, en: { ...pick(2), ...en } };

let current = 'ky';

export function setLang(l) {
  current = LANGS.includes(l) ? l : 'ky';
  try { localStorage.setItem('dobush.lang', current); } catch { /* private mode */ }
  document.documentElement.lang = current;
}

export function initialLang() {
  const q = new URLSearchParams(location.search).get('lang');
  let saved = null;
  try { saved = localStorage.getItem('dobush.lang'); } catch { /* private mode */ }
  return LANGS.includes(q) ? q : LANGS.includes(saved) ? saved : 'ky';
}

export const lang = () => current;

/** The text of `key` in the current language (English falls back to Russian), `{x}` filled. */
export function t(key, vars = {}) {
  const s = DICTS[current][key] ?? (current === 'en' ? ru[key] : undefined) ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => String(vars[k] ?? ''));
}

/** A manifest's localized text `{ky: …, ru: …}` in the current language, else any. */
export function localized(l) {
  if (!l || typeof l !== 'object') return '';
  return l[current] ?? l.ru ?? l.ky ?? Object.values(l)[0] ?? '';
}

export const KEYS = Object.keys(ky);
export const dicts = DICTS;
