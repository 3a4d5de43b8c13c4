/*! embedcrm owner's panel 1.0.0 — web components for the host's admin (docs/contract.md,
 * "The owner's panel"). Hand-written, no build step, no dependencies. Open shadow roots,
 * constructed stylesheets, no eval, no inline styles: it runs under a CSP naming only the API. */

const VERSION = '1.0.0';
// The API is where this file came from, unless init() names another.
const SCRIPT_ORIGIN = new URL(import.meta.url).origin;

// ---------------------------------------------------------------- text, in both languages
const TEXT = {
  ru: {
    panel: 'CRM', inbox: 'Заявки', board: 'Доска', tasks: 'Задачи', contacts: 'Контакты',
    reports: 'Отчёты', settings: 'Настройки', leads: 'Заявки', stage: 'Этап', search: 'Поиск',
    behind: 'Данные отчётов отстают на',
    searchHint: 'Имя, e-mail или телефон', anyStage: 'Все этапы', anySite: 'Все сайты',
    anyManager: 'Все менеджеры', unassigned: 'Без менеджера', source: 'Источник', tag: 'Тег',
    anyTag: 'Все теги', from: 'С', to: 'По', segment: 'Сегмент', noSegment: 'Без сегмента', saveSegment: 'Сохранить как сегмент', segmentName: 'Название сегмента', addTag: 'Добавить тег', removeTag: 'Убрать тег',
    status: 'Статус', open: 'Открыта', won: 'Успешна', lost: 'Отказ', all: 'Все', filters: 'Фильтры', form: 'Форма',
    title: 'Заявка', contact: 'Контакт', value: 'Сумма', created: 'Создана', manager: 'Менеджер',
    more: 'Показать ещё', none: 'Ничего не найдено', loading: 'Загрузка…', select: 'Выбрать',
    selectAll: 'Выбрать все', moveTo: 'Перевести в этап', assignTo: 'Назначить', apply: 'Применить',
    selected: 'Выбрано', of: 'из', close: 'Закрыть', reason: 'Причина', ok: 'OK', cancel: 'Отмена',
    reasonWon: 'Почему сделка успешна?', reasonLost: 'Почему отказ?', pipeline: 'Воронка продаж',
    phone: 'Телефон', email: 'E-mail', company: 'Компания', personalManager: 'Личный менеджер',
    currency: 'Валюта', cart: 'Корзина', order: 'Заказ', payment: 'Оплата', delivery: 'Доставка',
    address: 'Адрес', customFields: 'Дополнительные поля', tags: 'Теги', timeline: 'История',
    addActivity: 'Добавить запись', kind: 'Тип', NOTE: 'Заметка', CALL: 'Звонок',
    MEETING: 'Встреча', EMAIL: 'Письмо', MESSAGE: 'Сообщение', SUBMISSION: 'Заявка с сайта',
    STAGE_CHANGE: 'Смена этапа', TODO: 'Дело', FIRST_RESPONSE: 'Первый ответ', text: 'Текст',
    add: 'Добавить', save: 'Сохранить', task: 'Задача', due: 'Срок', addTask: 'Добавить задачу',
    done: 'Выполнена', merges: 'Возможные дубликаты', accept: 'Объединить', dismiss: 'Не дубликат',
    undo: 'Отменить объединение', merged: 'Контакты объединены', mine: 'Мои', overdue: 'Просроченные',
    allTasks: 'Все открытые', noDue: 'без срока', complete: 'Выполнить', leadsOf: 'Заявки',
    exportCsv: 'Скачать CSV', exportData: 'Выгрузить данные', erase: 'Удалить данные',
    eraseConfirm: 'Удалить все данные этого человека? Это нельзя отменить.', period: 'Период',
    days7: '7 дней', days30: '30 дней', days90: '90 дней', days365: 'Год', funnel: 'Воронка',
    sources: 'Источники', firstTouch: 'Первое касание', lastTouch: 'Последнее касание',
    series: 'Заявки и выручка по времени', spend: 'Расходы', managersReport: 'Менеджеры',
    forecast: 'Прогноз', profitability: 'Прибыльность', forms: 'Формы', showTable: 'Таблица',
    revenue: 'Выручка', cpl: 'Цена заявки', roi: 'ROI', payback: 'Окупаемость', amount: 'Сумма',
    campaign: 'Кампания', startsOn: 'Начало', endsOn: 'Конец', addSpend: 'Добавить расход',
    importCsv: 'Загрузить CSV', inStage: 'в этапе', reached: 'Дошли', winRate: 'Конверсия',
    weighted: 'С учётом вероятности', grossProfit: 'Валовая прибыль', margin: 'Маржа',
    views: 'Просмотры', starts: 'Начали', submissions: 'Отправили', month: 'Месяц',
    undated: 'Без даты', stages: 'Этапы', probability: 'Вероятность, %', name: 'Название',
    addStage: 'Добавить этап', fieldKey: 'Ключ', fieldType: 'Тип поля', addField: 'Добавить поле',
    rules: 'Правила распределения', siteForms: 'Формы сайтов', delete: 'Удалить',
    expired: 'Сеанс истёк. Обновите страницу или попробуйте снова.', retry: 'Попробовать снова',
    failed: 'Не удалось загрузить данные.',
    moved: 'Перемещено в этап', boardHelp: 'Карточку переносят в другой этап, потянув за ⠿, или стрелками влево и вправо; Enter открывает её.',
    newLead: 'Новая заявка', phoneNarrow: 'Меню', noContact: 'Без контакта', items: 'Позиции',
    phones: 'Телефоны', emails: 'Эл. почта', primary: 'основной', makePrimary: 'Сделать основным', removePoint: 'Удалить', addPoint: 'Добавить телефон или почту', pointKind: 'Что добавить', pointValue: 'Номер или адрес', pointLabel: 'Подпись', mobile: 'мобильный', work: 'рабочий', home: 'домашний',
    qty: 'Кол-во', price: 'Цена', total: 'Итого', openLead: 'Открыть', count: 'Заявок',
    proposals: 'Предложения объединения', members: 'Сотрудник', ROUND_ROBIN: 'По очереди',
    BY_SITE: 'По сайту', BY_SOURCE: 'По источнику', FIXED: 'Фиксированно', entity: 'Для',
    invoices: 'Счета', invoice: 'Счёт', fromCart: 'Выставить счёт по корзине', payments: 'Оплаты',
    payAmount: 'Сумма оплаты', recordPayment: 'Записать оплату', paidMANUAL: 'вручную', paidPROVIDER: 'через платёжную систему', issue: 'Выставить', print: 'Печать',
    paid: 'Оплачено', outstanding: 'К оплате', dueOn: 'Оплатить до', draft: 'черновик', DRAFT: 'Черновик', ISSUED: 'Выставлен',
    PARTLY_PAID: 'Оплачен частично', PAID: 'Оплачен', CANCELLED: 'Отменён', receivables: 'Дебиторская задолженность',
    buyer: 'Покупатель', daysLate: 'Дней просрочки', byPaid: 'Выручка по дате оплаты', wonLeads: 'Успешные',
    QUEUED: 'В очереди', SENDING: 'Отправляется', SENT: 'Отправлено', DELIVERED: 'Доставлено', FAILED: 'Не доставлено',
    SMS: 'SMS', TELEGRAM: 'Telegram', FEEDBACK: 'Отзыв', NPS: 'NPS', CSAT: 'CSAT', score: 'Оценка',
    rule: 'Правило', addRule: 'Добавить правило', up: 'Выше', site: 'Сайт', newForm: 'Новая форма', edit: 'Изменить',
    formKey: 'Ключ формы', display: 'Показ', INLINE: 'На странице', POPUP: 'Во всплывающем окне', FLOATING: 'Плавающая кнопка',
    formTitle: 'Заголовок', buttonLabel: 'Текст кнопки', successMessage: 'Сообщение после отправки', consent: 'Согласие',
    fieldName: 'Имя поля', fieldLabel: 'Подпись', required: 'Обязательное', removeField: 'Убрать поле', formOf: 'Форма',
    sort: 'Порядок', unansweredFirst: 'Сначала новые без ответа', newest: 'Сначала новые', unanswered: 'Без ответа',
    LEAD: 'Заявки', CONTACT: 'Контакта', saved: 'Сохранено', empty: 'Пока нет', direct: 'прямые заходы', CHAT: 'Чат', SOCIAL: 'Соцсети', OTHER: 'Другое',
    templates: 'Шаблоны сообщений', newTemplate: 'Новый шаблон', templateOf: 'Шаблон', channel: 'Канал', language: 'Язык', subject: 'Тема', body: 'Текст сообщения',
    variables: 'Переменные', insert: 'Вставить', trigger: 'Когда отправлять', MANUAL: 'Вручную', STAGE: 'При переходе в этап', REMINDER: 'Напоминание',
    DATE: 'Дата из поля', HOLIDAY: 'В праздник', hoursBefore: 'За сколько часов', dateField: 'Поле с датой', quietFrom: 'Тихие часы с', quietTo: 'Тихие часы до',
    active: 'Включён', inactive: 'выключен', preview: 'Предпросмотр', previewFor: 'Для кого', recipient: 'Получатель', noAddress: 'нет адреса для канала',
    alerts: 'Мои оповещения', channels: 'Каналы', telegramChat: 'Чат Telegram', digest: 'Сводка', OFF: 'Нет', HOURLY: 'Каждый час', DAILY: 'Раз в день',
    feedbackReport: 'Отзывы клиентов', average: 'Средняя оценка', answers: 'Ответов', comments: 'Последние комментарии', salesByProduct: 'Продажи по товарам', commission: 'Начисленная комиссия', workload: 'Загрузка менеджеров', openLeads: 'Открытые заявки',
    openTasks: 'Открытые задачи', payments: 'Платежей', product: 'Товар', sku: 'Артикул', cost: 'Себестоимость', byMonth: 'по месяцам', byManager: 'по менеджерам', bySource: 'по источникам',
  },
  en: {
    panel: 'CRM', inbox: 'Leads', board: 'Board', tasks: 'Tasks', contacts: 'Contacts',
    reports: 'Reports', settings: 'Settings', leads: 'Leads', stage: 'Stage', search: 'Search',
    behind: 'Report data are behind by',
    searchHint: 'Name, e-mail or phone', anyStage: 'All stages', anySite: 'All sites',
    anyManager: 'All managers', unassigned: 'Unassigned', source: 'Source', tag: 'Tag',
    anyTag: 'All tags', from: 'From', to: 'To', segment: 'Segment', noSegment: 'No segment', saveSegment: 'Save as segment', segmentName: 'Segment name', addTag: 'Add tag', removeTag: 'Remove tag',
    status: 'Status', open: 'Open', won: 'Won', lost: 'Lost', all: 'All', filters: 'Filters', form: 'Form',
    title: 'Lead', contact: 'Contact', value: 'Value', created: 'Created', manager: 'Manager',
    more: 'Show more', none: 'Nothing found', loading: 'Loading…', select: 'Select',
    selectAll: 'Select all', moveTo: 'Move to stage', assignTo: 'Assign to', apply: 'Apply',
    selected: 'Selected', of: 'of', close: 'Close', reason: 'Reason', ok: 'OK', cancel: 'Cancel',
    reasonWon: 'Why was it won?', reasonLost: 'Why was it lost?', pipeline: 'Pipeline',
    phone: 'Phone', email: 'E-mail', company: 'Company', personalManager: 'Personal manager',
    currency: 'Currency', cart: 'Cart', order: 'Order', payment: 'Payment', delivery: 'Delivery',
    address: 'Address', customFields: 'Custom fields', tags: 'Tags', timeline: 'Timeline',
    addActivity: 'Add to timeline', kind: 'Kind', NOTE: 'Note', CALL: 'Call',
    MEETING: 'Meeting', EMAIL: 'E-mail', MESSAGE: 'Message', SUBMISSION: 'Form submission',
    STAGE_CHANGE: 'Stage change', TODO: 'To-do', FIRST_RESPONSE: 'First response', text: 'Text',
    add: 'Add', save: 'Save', task: 'Task', due: 'Due', addTask: 'Add task',
    done: 'Done', merges: 'Possible duplicates', accept: 'Merge', dismiss: 'Not a duplicate',
    undo: 'Undo merge', merged: 'Contacts merged', mine: 'Mine', overdue: 'Overdue',
    allTasks: 'All open', noDue: 'no due date', complete: 'Complete', leadsOf: 'Leads',
    exportCsv: 'Download CSV', exportData: 'Export data', erase: 'Erase data',
    eraseConfirm: 'Erase everything kept about this person? This cannot be undone.', period: 'Period',
    days7: '7 days', days30: '30 days', days90: '90 days', days365: 'Year', funnel: 'Funnel',
    sources: 'Sources', firstTouch: 'First touch', lastTouch: 'Last touch',
    series: 'Leads and revenue over time', spend: 'Spend', managersReport: 'Managers',
    forecast: 'Forecast', profitability: 'Profitability', forms: 'Forms', showTable: 'Table',
    revenue: 'Revenue', cpl: 'Cost per lead', roi: 'ROI', payback: 'Payback', amount: 'Amount',
    campaign: 'Campaign', startsOn: 'Starts', endsOn: 'Ends', addSpend: 'Add spend',
    importCsv: 'Upload CSV', inStage: 'in stage', reached: 'Reached', winRate: 'Win rate',
    weighted: 'Weighted', grossProfit: 'Gross profit', margin: 'Margin',
    views: 'Views', starts: 'Starts', submissions: 'Submissions', month: 'Month',
    undated: 'Undated', stages: 'Stages', probability: 'Probability, %', name: 'Name',
    addStage: 'Add stage', fieldKey: 'Key', fieldType: 'Field type', addField: 'Add field',
    rules: 'Assignment rules', siteForms: 'Site forms', delete: 'Delete',
    expired: 'Your session has expired. Reload the page or try again.', retry: 'Try again',
    failed: 'Could not load the data.',
    moved: 'Moved to stage', boardHelp: 'Drag a card by ⠿ to another stage, or move it with the left and right arrows; Enter opens it.',
    newLead: 'New lead', phoneNarrow: 'Menu', noContact: 'No contact', items: 'Items',
    phones: 'Phones', emails: 'E-mails', primary: 'primary', makePrimary: 'Make primary', removePoint: 'Remove', addPoint: 'Add a phone or e-mail', pointKind: 'What to add', pointValue: 'Number or address', pointLabel: 'Label', mobile: 'mobile', work: 'work', home: 'home',
    qty: 'Qty', price: 'Price', total: 'Total', openLead: 'Open', count: 'Leads',
    proposals: 'Merge proposals', members: 'Member', ROUND_ROBIN: 'Round robin',
    BY_SITE: 'By site', BY_SOURCE: 'By source', FIXED: 'Fixed', entity: 'For',
    invoices: 'Invoices', invoice: 'Invoice', fromCart: 'Invoice the cart', payments: 'Payments',
    payAmount: 'Amount paid', recordPayment: 'Record payment', paidMANUAL: 'by hand', paidPROVIDER: 'through the payment provider', issue: 'Issue', print: 'Print',
    paid: 'Paid', outstanding: 'Outstanding', dueOn: 'Due', draft: 'draft', DRAFT: 'Draft', ISSUED: 'Issued',
    PARTLY_PAID: 'Partly paid', PAID: 'Paid', CANCELLED: 'Cancelled', receivables: 'Receivables',
    buyer: 'Buyer', daysLate: 'Days late', byPaid: 'Revenue by paid date', wonLeads: 'Won',
    QUEUED: 'Queued', SENDING: 'Sending', SENT: 'Sent', DELIVERED: 'Delivered', FAILED: 'Failed',
    SMS: 'SMS', TELEGRAM: 'Telegram', FEEDBACK: 'Feedback', NPS: 'NPS', CSAT: 'CSAT', score: 'Score',
    rule: 'Rule', addRule: 'Add rule', up: 'Up', site: 'Site', newForm: 'New form', edit: 'Edit',
    formKey: 'Form key', display: 'Display', INLINE: 'In the page', POPUP: 'Pop-up', FLOATING: 'Floating button',
    formTitle: 'Title', buttonLabel: 'Button text', successMessage: 'Message after sending', consent: 'Consent',
    fieldName: 'Field name', fieldLabel: 'Label', required: 'Required', removeField: 'Remove field', formOf: 'Form',
    sort: 'Order', unansweredFirst: 'New and unanswered first', newest: 'Newest first', unanswered: 'Unanswered',
    LEAD: 'Leads', CONTACT: 'Contacts', saved: 'Saved', empty: 'None yet', direct: 'direct', CHAT: 'Chat', SOCIAL: 'Social', OTHER: 'Other',
    templates: 'Message templates', newTemplate: 'New template', templateOf: 'Template', channel: 'Channel', language: 'Language', subject: 'Subject', body: 'Message text',
    variables: 'Variables', insert: 'Insert', trigger: 'When to send', MANUAL: 'By hand', STAGE: 'On entering a stage', REMINDER: 'Reminder',
    DATE: 'Date from a field', HOLIDAY: 'On holidays', hoursBefore: 'Hours before', dateField: 'Date field', quietFrom: 'Quiet hours from', quietTo: 'Quiet hours to',
    active: 'Active', inactive: 'inactive', preview: 'Preview', previewFor: 'For', recipient: 'Recipient', noAddress: 'no address for the channel',
    alerts: 'My alerts', channels: 'Channels', telegramChat: 'Telegram chat', digest: 'Digest', OFF: 'Off', HOURLY: 'Hourly', DAILY: 'Daily',
    feedbackReport: 'Customer feedback', average: 'Average score', answers: 'Answers', comments: 'Latest comments', salesByProduct: 'Sales by product', commission: 'Accrued commission', workload: 'Workload', openLeads: 'Open leads',
    openTasks: 'Open tasks', payments: 'Payments', product: 'Product', sku: 'SKU', cost: 'Cost', byMonth: 'by month', byManager: 'by manager', bySource: 'by source',
  },
};

// ---------------------------------------------------------------- every query it sends
// Each is also in schema/operations/panel.graphql (a test keeps them equal), so a host may run
// them persisted.
const Q = {
  Boot: `query PanelBoot {
  workspace { id name timezone }
  pipelines { id name isDefault stages { id name position probability kind } }
  members { id name role }
  sites { id name }
  tags { id name }
}`,
  Inbox: `query PanelInbox($first: Int!, $after: String, $filter: LeadFilter, $segmentId: ID, $sort: LeadSort! = NEWEST) {
  leads(first: $first, after: $after, filter: $filter, segmentId: $segmentId, sort: $sort) {
    pageInfo { hasNextPage endCursor }
    edges { node { id title status value currency createdAt channel firstResponseAt
      stage { id name kind } assignee { id name }
      contact { id name email phone } source { utmSource } } }
  }
}`,
  InboxCount: `query PanelInboxCount($filter: LeadFilter, $segmentId: ID, $limit: Int! = 10000) {
  leads(first: 1, filter: $filter, segmentId: $segmentId) { totalCountUpTo(limit: $limit) { count reachedLimit } }
}`,
  CreateSegment: `mutation PanelCreateSegment($input: CreateSegmentInput!) {
  createSegment(input: $input) { segment { id name } userErrors { field message code } }
}`,
  TagRecords: `mutation PanelTagRecords($input: TagRecordsInput!) {
  tagRecords(input: $input) { leads { id } userErrors { field message code } }
}`,
  BoardTotals: `query PanelBoardTotals($pipelineId: ID!) {
  boardTotals(pipelineId: $pipelineId) { stageId count sums { currency amount } }
}`,
  Segments: `query PanelSegments {
  segments(first: 100) { edges { node { id name entity count } } }
}`,
  Lead: `query PanelLead($id: ID!) {
  node(id: $id) { ... on Lead {
    id title status value currency message form channel createdAt pipelineId customFields
    stage { id name kind } assignee { id name }
    contact { id name email phone company customFields manager { id name } tags { id name }
      emails { id value label primary } phones { id value label primary e164 } }
    order { paymentMethod orderedAt deliveryMethod deliveryAddress deliveryFrom deliveryTo }
    items { product sku quantity unitPrice } itemsTotal
    tags { id name }
    source { utmSource utmMedium utmCampaign referrer landingPage }
    timeline(first: 50) { edges { node { id kind body data createdAt author { name } } } }
    tasks(first: 50) { edges { node { id title kind dueAt done overdue assignee { name } } } }
  } }
}`,
  LeadInvoices: `query PanelLeadInvoices($leadId: ID!) {
  invoices(first: 20, filter: { leadId: $leadId }) { edges { node {
    id number status currency total paid outstanding dueOn createdAt printUrl
    payments { id amount currency source paidAt } } } }
}`,
  RecordPayment: `mutation PanelRecordPayment($input: RecordPaymentInput!) {
  recordPayment(input: $input) { invoice { id status } userErrors { field message code } }
}`,
  AddContactPoint: `mutation PanelAddContactPoint($input: AddContactPointInput!) {
  addContactPoint(input: $input) { contact { id } userErrors { field message code } }
}`,
  UpdateContactPoint: `mutation PanelUpdateContactPoint($input: UpdateContactPointInput!) {
  updateContactPoint(input: $input) { contact { id } userErrors { field message code } }
}`,
  RemoveContactPoint: `mutation PanelRemoveContactPoint($input: DeleteInput!) {
  removeContactPoint(input: $input) { contact { id } userErrors { field message code } }
}`,
  CreateInvoice: `mutation PanelCreateInvoice($input: CreateInvoiceInput!) {
  createInvoice(input: $input) { invoice { id } userErrors { field message code } }
}`,
  IssueInvoice: `mutation PanelIssueInvoice($input: InvoiceIdInput!) {
  issueInvoice(input: $input) { invoice { id number } userErrors { field message code } }
}`,
  ContactMessages: `query PanelContactMessages($contactId: ID!) {
  messages(contactId: $contactId, first: 50) { edges { node {
    id channel status recipient subject body lastError createdAt leadId } } }
  feedbackAnswers(contactId: $contactId, first: 20) { edges { node {
    id kind score comment createdAt leadId } } }
}`,
  Money: `query PanelMoney($starts: DateTime!, $ends: DateTime!) {
  receivables { today rows { buyerName currency invoices outstanding overdue daysLate } }
  revenue(starts: $starts, ends: $ends) { byPaidDate { currency amount } byWonDate { currency amount } }
}`,
  Proposals: `query PanelProposals {
  mergeProposals(first: 100) { edges { node { id reason
    contact { id name email phone } otherContact { id name email phone } } } }
}`,
  MoveLead: `mutation PanelMoveLead($input: MoveLeadInput!) {
  moveLead(input: $input) { lead { id stage { id name kind } status } userErrors { field message code } }
}`,
  BulkMove: `mutation PanelBulkMove($input: BulkMoveLeadsInput!) {
  bulkMoveLeads(input: $input) { leads { id } userErrors { field message code } }
}`,
  BulkAssign: `mutation PanelBulkAssign($input: BulkAssignLeadsInput!) {
  bulkAssignLeads(input: $input) { leads { id } userErrors { field message code } }
}`,
  AddActivity: `mutation PanelAddActivity($input: AddActivityInput!) {
  addActivity(input: $input) { activity { id } userErrors { field message code } }
}`,
  CreateTask: `mutation PanelCreateTask($input: CreateTaskInput!) {
  createTask(input: $input) { task { id } userErrors { field message code } }
}`,
  UpdateTask: `mutation PanelUpdateTask($input: UpdateTaskInput!) {
  updateTask(input: $input) { task { id done } userErrors { field message code } }
}`,
  AcceptMerge: `mutation PanelAcceptMerge($input: AcceptMergeProposalInput!) {
  acceptMergeProposal(input: $input) { merge { id } userErrors { field message code } }
}`,
  DismissMerge: `mutation PanelDismissMerge($input: DeleteInput!) {
  dismissMergeProposal(input: $input) { userErrors { field message code } }
}`,
  UndoMerge: `mutation PanelUndoMerge($input: DeleteInput!) {
  undoContactMerge(input: $input) { merge { id } userErrors { field message code } }
}`,
  Tasks: `query PanelTasks($filter: TaskFilter) {
  tasks(first: 100, filter: $filter) { edges { node { id title kind dueAt done overdue leadId
    assignee { id name } contact { id name } } } }
}`,
  Contacts: `query PanelContacts($first: Int!, $after: String, $filter: ContactFilter) {
  contacts(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node { id name email phone company createdAt manager { name }
      leads(first: 3) { totalCount edges { node { id title stage { name } } } } } }
  }
}`,
  ContactsCsv: `query PanelContactsCsv($filter: ContactFilter) {
  contactsCsv(filter: $filter) { csv rowCount }
}`,
  PersonalData: `query PanelPersonalData($contactId: ID!) { personalData(contactId: $contactId) }`,
  Erase: `mutation PanelErase($input: ErasePersonInput!) {
  erasePerson(input: $input) { userErrors { field message code } }
}`,
  Reports: `query PanelReports($filter: AnalyticsFilter!, $touch: Touch!, $interval: AnalyticsInterval!) {
  analytics(filter: $filter) {
    lagSeconds
    funnel { leads won lost stages { stageId name kind reached conversionToNext medianSecondsInStage } }
    sources(touch: $touch) { source medium campaign leads won revenue conversion }
    spend(touch: $touch) { source campaign leads won revenue spend costPerLead roi payback }
    managers { leads won lost winRate revenue overdueTasks member { name } }
    forecast { months { month leads value weightedValue } undated { leads value weightedValue } }
    profitability { won revenue grossProfit margin }
    forms { form views starts submissions conversion }
    timeSeries(interval: $interval) { startsAt leads won revenue }
  }
}`,
  RecordSpend: `mutation PanelRecordSpend($input: RecordAdSpendInput!) {
  recordAdSpend(input: $input) { adSpend { id } userErrors { field message code } }
}`,
  ImportSpend: `mutation PanelImportSpend($input: ImportAdSpendInput!) {
  importAdSpend(input: $input) { adSpend { id } userErrors { field message code } }
}`,
  Settings: `query PanelSettings {
  customFields { id entity key label type options }
  assignmentRules { kind siteId utmSource memberId }
}`,
  SiteForms: `query PanelSiteForms($siteId: ID!) {
  siteForms(siteId: $siteId) { id key display title { ru en } buttonLabel { ru en }
    successMessage { ru en } consentText { ru en }
    fields { name type required label { ru en } options { value label { ru en } } } }
}`,
  SetRules: `mutation PanelSetRules($input: SetAssignmentRulesInput!) {
  setAssignmentRules(input: $input) { rules { kind } userErrors { field message code } }
}`,
  SaveForm: `mutation PanelSaveForm($input: SaveSiteFormInput!) {
  saveSiteForm(input: $input) { siteForm { id } userErrors { field message code } }
}`,
  DeleteForm: `mutation PanelDeleteForm($input: DeleteSiteFormInput!) {
  deleteSiteForm(input: $input) { deletedKey userErrors { field message code } }
}`,
  UpdateStage: `mutation PanelUpdateStage($input: UpdateStageInput!) {
  updateStage(input: $input) { stage { id } userErrors { field message code } }
}`,
  CreateStage: `mutation PanelCreateStage($input: CreateStageInput!) {
  createStage(input: $input) { stage { id } userErrors { field message code } }
}`,
  CreateField: `mutation PanelCreateField($input: CreateCustomFieldInput!) {
  createCustomField(input: $input) { customField { id } userErrors { field message code } }
}`,
  DeleteTag: `mutation PanelDeleteTag($input: DeleteInput!) {
  deleteTag(input: $input) { userErrors { field message code } }
}`,
  Templates: `query PanelTemplates {
  messageTemplates(first: 100) { edges { node { id name channel language subject body trigger stageId hoursBefore fieldKey quietFrom quietTo active } } }
  messageVariables { name description }
}`,
  CreateTemplate: `mutation PanelCreateTemplate($input: CreateMessageTemplateInput!) {
  createMessageTemplate(input: $input) { template { id } userErrors { field message code } }
}`,
  UpdateTemplate: `mutation PanelUpdateTemplate($input: UpdateMessageTemplateInput!) {
  updateMessageTemplate(input: $input) { template { id } userErrors { field message code } }
}`,
  PreviewFor: `query PanelPreviewFor($search: String!) {
  contacts(first: 10, filter: { search: $search }) { edges { node { id name leads(first: 3) { edges { node { id title } } } } } }
}`,
  Preview: `query PanelPreview($templateId: ID!, $contactId: ID!, $leadId: ID) {
  previewMessage(templateId: $templateId, contactId: $contactId, leadId: $leadId) { subject body recipient }
}`,
  Alerts: `query PanelAlerts {
  alertSettings { channels phone telegramChat quietFrom quietTo digest }
}`,
  SaveAlerts: `mutation PanelSaveAlerts($input: UpdateAlertSettingsInput!) {
  updateAlertSettings(input: $input) { settings { memberId } userErrors { field message code } }
}`,
  Sales: `query PanelSales($starts: DateTime!, $ends: DateTime!) {
  salesByProduct(starts: $starts, ends: $ends) { rows { name sku currency quantity revenue cost margin leads } }
  accruedCommission(starts: $starts, ends: $ends) { memberId name payments paid margin commission }
  workload { name openLeads openTasks overdueTasks }
}`,
  Feedback: `query PanelFeedback($kind: FeedbackKind!, $from: DateTime!, $to: DateTime!) {
  feedbackReport(kind: $kind, from: $from, to: $to) {
    overall { count average nps } byMonth { key count average nps } byManager { key count average nps }
    bySource { key count average nps } comments { id score comment source createdAt }
  }
}`,
};

// ---------------------------------------------------------------- shared state
const S = {
  options: null, api: SCRIPT_ORIGIN, locale: 'ru', token: null, expiresAt: 0, claims: {},
  pending: null, timer: 0, expired: false, boot: null, parts: new Set(), listeners: new Set(),
  streaming: false,
};
let resolveReady;
const ready = new Promise((resolve) => { resolveReady = resolve; });

const t = (key) => (TEXT[S.locale] || TEXT.ru)[key] || TEXT.en[key] || key;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

class PanelError extends Error {
  constructor(type, message) { super(message || type); this.type = type; }
}

// ---------------------------------------------------------------- styles (constructed)
const CSS = `
:host{display:block;box-sizing:border-box;width:100%;color:var(--ec-text);background:var(--ec-bg);
font:var(--ec-size) var(--ec-font);line-height:1.45;border-radius:var(--ec-radius);
--ec-pad:calc(var(--ec-unit)*1px);}
:host([hidden]),[hidden]{display:none!important}
figure{margin:0}
.charts svg{width:100%}
.filters>summary{margin-bottom:var(--ec-pad)}
*,*::before,*::after{box-sizing:border-box}
h2,h3,h4{margin:0 0 var(--ec-pad);line-height:1.25}h2{font-size:1.25em}h3{font-size:1.05em}h4{font-size:.95em}
button,input,select,textarea{font:inherit;color:inherit}
button,.btn{cursor:pointer;border:1px solid var(--ec-border);background:var(--ec-surface);border-radius:var(--ec-radius);
padding:calc(var(--ec-pad)*.5) var(--ec-pad);min-height:36px}
button.primary{background:var(--ec-primary);color:var(--ec-on-primary);border-color:var(--ec-primary)}
button:disabled{opacity:.55;cursor:default}
input,select,textarea{border:1px solid var(--ec-border);border-radius:var(--ec-radius);background:var(--ec-bg);
padding:calc(var(--ec-pad)*.5);min-height:36px;max-width:100%}
textarea{width:100%;min-height:4em}
.pre{white-space:pre-wrap;overflow-wrap:anywhere}
fieldset{border:1px solid var(--ec-border);border-radius:var(--ec-radius)}fieldset label{white-space:nowrap;margin-right:var(--ec-pad)}
input[type=number]{width:5.5em}
.card.wide{grid-column:1/-1}
.stack{display:flex;flex-direction:column;gap:var(--ec-pad)}.stack>h2,.stack>p{margin:0}.stack>:empty{display:none}
:focus-visible{outline:2px solid var(--ec-primary);outline-offset:2px}
.field{display:inline-flex;flex-direction:column;gap:2px;max-width:100%}.field.full{display:flex}
.field>label{font-size:.85em;color:var(--ec-muted)}
label.check{display:inline-flex;flex-direction:row;align-items:center;gap:6px}
.bar{display:flex;flex-wrap:wrap;gap:var(--ec-pad);align-items:flex-end;margin-bottom:var(--ec-pad)}
.bar .grow{flex:1 1 14em}.bar .grow input{width:100%}
.muted{color:var(--ec-muted)}.small{font-size:.85em}
.err{color:var(--ec-danger)}
.card{border:1px solid var(--ec-border);border-radius:var(--ec-radius);padding:var(--ec-pad);background:var(--ec-surface)}
.grid{display:grid;gap:var(--ec-pad);grid-template-columns:repeat(auto-fit,minmax(min(100%,18em),1fr))}
.grid.charts{grid-template-columns:repeat(auto-fit,minmax(min(100%,30em),1fr))}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:calc(var(--ec-pad)*.5);border-bottom:1px solid var(--ec-border);vertical-align:top}
th{font-size:.8em;color:var(--ec-muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:hover{background:var(--ec-hover)}
a,.link{color:var(--ec-text);background:none;border:0;padding:0;min-height:0;text-align:left;text-decoration:underline;text-decoration-color:var(--ec-primary);text-decoration-thickness:2px;text-underline-offset:3px;cursor:pointer;font-weight:600}
.link.small{font-weight:400}.link.err{color:var(--ec-danger);text-decoration-color:var(--ec-danger)}
.badge{display:inline-block;padding:0 6px;border-radius:999px;background:var(--ec-hover);font-size:.8em;white-space:nowrap}
.badge.new{background:var(--ec-primary);color:var(--ec-on-primary)}.badge.WON{background:var(--ec-good);color:#fff}.badge.LOST{background:var(--ec-danger);color:#fff}
.nav{display:flex;gap:4px;flex-wrap:wrap;border-bottom:1px solid var(--ec-border);margin-bottom:var(--ec-pad)}
.nav button{border:0;border-bottom:3px solid transparent;border-radius:0;background:none}
.nav button[aria-selected=true]{border-bottom-color:var(--ec-primary);font-weight:600}
.banner{padding:var(--ec-pad);border:1px solid var(--ec-danger);border-radius:var(--ec-radius);margin-bottom:var(--ec-pad)}
.board{display:flex;gap:var(--ec-pad);overflow-x:auto;padding-bottom:var(--ec-pad);scroll-snap-type:x mandatory}
.col{flex:1 0 min(85%,13em);scroll-snap-align:start;background:var(--ec-hover);border-radius:var(--ec-radius);padding:calc(var(--ec-pad)*.5);min-height:8em}
.board.dragging{scroll-snap-type:none}
.col.over{outline:3px solid var(--ec-primary);outline-offset:-3px}
.col ol{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:6px}
.col li,.ghost{background:var(--ec-bg);border:1px solid var(--ec-border);border-radius:var(--ec-radius);padding:6px 8px;cursor:grab;-webkit-user-select:none;user-select:none;-webkit-touch-callout:none}
.col li.lifted{opacity:.35}
.ghost{position:fixed;left:0;top:0;margin:0;list-style:none;z-index:var(--ec-z);pointer-events:none;box-shadow:0 8px 24px rgba(0,0,0,.35);rotate:2deg;cursor:grabbing}
.col li,.ghost{display:grid;grid-template-columns:1fr auto;align-items:start}.col li>:not(strong,.grip),.ghost>div{grid-column:1/-1}
.grip{display:flex;align-items:center;justify-content:center;width:44px;height:44px;margin:-6px -8px -10px 0;touch-action:none;color:var(--ec-muted);font-size:1.2em}
.col li:focus-visible{outline:2px solid var(--ec-primary)}
.col li select{width:100%;margin-top:4px;min-height:32px;font-size:.85em}
dialog{border:1px solid var(--ec-border);border-radius:var(--ec-radius);background:var(--ec-bg);color:var(--ec-text);
padding:0;width:min(56em,100vw - 16px);max-height:calc(100vh - 16px);z-index:var(--ec-z)}
dialog::backdrop{background:rgba(0,0,0,.45)}
dialog .dialog-head{display:flex;justify-content:flex-end;padding:4px;position:sticky;top:0;background:var(--ec-bg)}
dialog .dialog-body{padding:0 var(--ec-pad) var(--ec-pad)}
dialog.small{width:min(26em,100vw - 16px)}
.timeline{list-style:none;margin:0;padding:0}
.timeline li{padding:6px 0;border-bottom:1px solid var(--ec-border)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px var(--ec-pad);margin:0}
dt{color:var(--ec-muted)}dd{margin:0;overflow-wrap:anywhere}
svg{display:block;max-width:100%;height:auto}
svg text{fill:var(--ec-text);font-size:13px}
svg .bar-fill{fill:var(--ec-primary)}svg .bar-alt{fill:var(--ec-good)}svg .axis{stroke:var(--ec-border)}
details summary{cursor:pointer;margin:4px 0;text-decoration:underline;text-decoration-color:var(--ec-primary)}
.show-narrow{display:none}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.scroll{overflow-x:auto}
@media (max-width:640px){
  .hide-narrow{display:none}
  .show-narrow{display:block}
  th,td{padding:4px}
  .bar>label,.bar>button{flex:1 1 45%}
}
`;
const sheet = new CSSStyleSheet();
sheet.replaceSync(CSS);
const themeSheet = new CSSStyleSheet();

// Appearance: named, checked variables (like Stripe's), never free CSS. The host may also set
// the --embedcrm-* custom properties on the element in its own CSS; those win.
const VARIABLES = {
  colorPrimary: ['primary', 'color', '#2f6fed', '#7aa7ff'],
  colorBackground: ['bg', 'color', '#ffffff', '#16181d'],
  colorSurface: ['surface', 'color', '#f7f8fa', '#1f2229'],
  colorText: ['text', 'color', '#1d2330', '#e8eaf0'],
  colorSecondaryText: ['muted', 'color', '#5b6475', '#a3abbb'],
  colorBorder: ['border', 'color', '#d9dde5', '#343945'],
  colorDanger: ['danger', 'color', '#c62828', '#ff7b72'],
  colorSuccess: ['good', 'color', '#2e7d32', '#3fb950'],
  colorHover: ['hover', 'color', '#eef1f6', '#262a33'],
  colorOnPrimary: ['on-primary', 'color', '#ffffff', '#0b1020'],
  fontFamily: ['font', 'font', 'inherit', 'inherit'],
  fontSizeBase: ['size', 'length', '14px', '14px'],
  borderRadius: ['radius', 'length', '8px', '8px'],
  spacingUnit: ['unit', 'number', '10', '10'],
  overlayZIndex: ['z', 'number', '1000', '1000'],
};
const DENSITY = { compact: '6', normal: '10', comfortable: '14' };

function safeValue(kind, value) {
  const v = String(value).trim();
  if (/[;{}<>\\]|url\(|expression|@/i.test(v) || v.length > 120) return null;
  if (kind === 'color') return /^(#[0-9a-f]{3,8}|(rgb|rgba|hsl|hsla|oklch)\([\d\s.,%/a-z-]+\)|[a-z]+)$/i.test(v) ? v : null;
  if (kind === 'length') return /^\d{1,2}(\.\d+)?(px|rem|em)$/.test(v) ? v : null;
  if (kind === 'number') return /^\d{1,5}$/.test(v) ? v : null;
  return /^[\w\s"',.-]+$/.test(v) ? v : null;
}

function buildTheme() {
  const vars = (S.options && S.options.appearance && S.options.appearance.variables) || {};
  const density = S.options && S.options.appearance && DENSITY[S.options.appearance.density];
  const block = (dark) => Object.entries(VARIABLES).map(([name, [css, kind, light, night]]) => {
    let given = vars[name] != null ? safeValue(kind, vars[name]) : null;
    if (name === 'spacingUnit' && !given && density) given = density;
    const host = '--embedcrm-' + name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
    // Colours given by the host apply to the light scheme; dark keeps readable defaults
    // unless the host names dark ones (appearance.darkVariables).
    const darkGiven = dark && S.options && S.options.appearance && S.options.appearance.darkVariables
      && S.options.appearance.darkVariables[name] != null ? safeValue(kind, S.options.appearance.darkVariables[name]) : null;
    const value = dark ? (darkGiven || (kind === 'color' ? night : given || night)) : given || light;
    return `--ec-${css}:var(${host},${value});`;
  }).join('');
  themeSheet.replaceSync(`:host{${block(false)}color-scheme:light}:host([data-scheme=dark]){${block(true)}color-scheme:dark}`);
}
buildTheme();

const darkQuery = matchMedia('(prefers-color-scheme: dark)');
function scheme() {
  const wanted = (S.options && S.options.appearance && S.options.appearance.colorScheme) || 'auto';
  if (wanted === 'light' || wanted === 'dark') return wanted;
  // "auto" follows the host page first (its color-scheme), then the system.
  const page = getComputedStyle(document.documentElement).colorScheme || '';
  if (/^\s*dark\s*$/.test(page)) return 'dark';
  if (/^\s*light\s*$/.test(page)) return 'light';
  return darkQuery.matches ? 'dark' : 'light';
}
function applyScheme(el) { el.dataset.scheme = scheme(); }
darkQuery.addEventListener('change', () => S.parts.forEach(applyScheme));

// ---------------------------------------------------------------- DOM helpers (no HTML strings)
function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  return fill(el, props, kids);
}
const SVG = 'http://www.w3.org/2000/svg';
function s(tag, props, ...kids) {
  return fill(document.createElementNS(SVG, tag), props, kids);
}
function fill(el, props, kids) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value == null || value === false) continue;
    if (key === 'text') el.textContent = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'value' || key === 'checked' || key === 'selected') el[key] = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const kid of kids.flat(3)) {
    if (kid == null || kid === false) continue;
    el.append(kid instanceof Node ? kid : String(kid));
  }
  return el;
}
let uid = 0;
const nextId = (p) => `${p}-${++uid}`;
// The label sits beside its control (not around it), so the control's name is the label alone.
function field(label, control, cls) {
  if (!control.id) control.id = nextId('f');
  return h('div', { class: 'field' + (cls ? ' ' + cls : '') }, h('label', { for: control.id }, label), control);
}
function options(list, selected) {
  return list.map(([value, text]) => h('option', { value, selected: value === selected }, text));
}
// Shows each part only while the select's value passes the part's test.
function showWhen(select, parts) {
  const shown = () => parts.forEach(([part, test]) => { part.hidden = !test(select.value); });
  select.addEventListener('change', shown);
  shown();
  return parts.map(([part]) => part);
}
function emit(el, name, detail) {
  el.dispatchEvent(new CustomEvent(name, { bubbles: true, composed: true, detail }));
}
function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

// ---------------------------------------------------------------- formats (Intl)
const tz = () => (S.boot && S.boot.workspace && S.boot.workspace.timezone) || undefined;
function fmtDate(iso, withTime = true) {
  if (!iso) return '';
  const opts = withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' };
  try { return new Intl.DateTimeFormat(S.locale, { ...opts, timeZone: tz() }).format(new Date(iso)); }
  catch { return new Intl.DateTimeFormat(S.locale, opts).format(new Date(iso)); }
}
function fmtMoney(value, currency) {
  if (value == null || value === '') return '';
  const n = Number(value);
  try { return new Intl.NumberFormat(S.locale, currency ? { style: 'currency', currency, maximumFractionDigits: 2 } : { maximumFractionDigits: 2 }).format(n); }
  catch { return new Intl.NumberFormat(S.locale).format(n) + (currency ? ' ' + currency : ''); }
}
const fmtNum = (n, digits = 0) => (n == null ? '—' : new Intl.NumberFormat(S.locale, { maximumFractionDigits: digits }).format(n));
const fmtPct = (n) => (n == null ? '—' : new Intl.NumberFormat(S.locale, { style: 'percent', maximumFractionDigits: 1 }).format(n));
function fmtDuration(seconds) {
  if (seconds == null) return '—';
  const unit = seconds >= 86400 ? ['day', seconds / 86400] : seconds >= 3600 ? ['hour', seconds / 3600] : ['minute', seconds / 60];
  return new Intl.NumberFormat(S.locale, { style: 'unit', unit: unit[0], unitDisplay: 'short', maximumFractionDigits: 1 }).format(unit[1]);
}
// How far behind a replica must be before the reports say so; below it they are as good as live.
const LAG_SHOWN_SECONDS = 10;
function fmtLag(seconds) {
  if (seconds >= 60) return fmtDuration(seconds);
  return new Intl.NumberFormat(S.locale, { style: 'unit', unit: 'second', unitDisplay: 'short', maximumFractionDigits: 0 }).format(seconds);
}
// A datetime-local value read in the workspace's timezone, as an ISO instant.
function localToIso(value) {
  if (!value) return null;
  const guess = new Date(value + 'Z');
  const zone = tz();
  if (!zone) return new Date(value).toISOString();
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(guess);
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const shown = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'));
  return new Date(guess.getTime() - (shown - guess.getTime())).toISOString();
}

// ---------------------------------------------------------------- the token and the API
// The token's own claims (role, components, expiry): itsdangerous's payload, base64url JSON,
// zlib-compressed when that is shorter (a leading dot says so). Read, never trusted: the server
// checks every call; this only picks the tabs to show and when to refresh.
async function readClaims(token) {
  try {
    const compressed = token.startsWith('.');
    const body = (compressed ? token.slice(1) : token).split('.')[0];
    const binary = atob(body.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (body.length % 4)) % 4));
    let bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    if (compressed) bytes = new Uint8Array(await new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'))).arrayBuffer());
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch { return {}; }
}

async function getToken(force) {
  if (!force && S.token && Date.now() < S.expiresAt - 30000) return S.token;
  if (!S.pending) {
    // One refresh at a time for every element on the page.
    S.pending = (async () => {
      try {
        const answer = await S.options.fetchToken();
        const token = String(typeof answer === 'string' ? answer : answer && answer.token || '').trim();
        if (!token) throw new PanelError('session_expired', 'fetchToken gave no token');
        S.token = token;
        S.claims = await readClaims(token);
        const given = answer && answer.expiresAt ? Date.parse(answer.expiresAt) : 0;
        S.expiresAt = given || (S.claims.exp ? S.claims.exp * 1000 : Date.now() + 300000);
        clearTimeout(S.timer);
        // Refresh ahead of expiry (at 80 % of the remaining life), so no call meets a dead token.
        const life = Math.max(5000, (S.expiresAt - Date.now()) * 0.8);
        S.timer = setTimeout(() => { getToken(true).catch(() => {}); }, life);
        if (S.expired) { S.expired = false; S.parts.forEach((p) => p.reload()); }
        return token;
      } finally { S.pending = null; }
    })();
  }
  return S.pending;
}

function sessionExpired() {
  if (!S.expired) {
    S.expired = true;
    S.parts.forEach((part) => { emit(part, 'embedcrm:error', { type: 'session_expired', message: t('expired') }); part.showExpired(); });
  }
  return new PanelError('session_expired', t('expired'));
}

// The server runs at most four requests per member at once and refuses the rest with 429; the
// panel keeps three in flight (another tab may want one) and queues the others.
const MAX_IN_FLIGHT = 3;
let inFlight = 0;
const waiting = [];
async function slot(fn) {
  if (inFlight >= MAX_IN_FLIGHT) await new Promise((resolve) => waiting.push(resolve));
  inFlight++;
  try { return await fn(); } finally { inFlight--; const next = waiting.shift(); if (next) next(); }
}

async function gql(query, variables) {
  let refreshed = false;
  let force = false;
  let status = 0;
  for (let attempt = 0; attempt < 6; attempt++) {
    let token;
    try { token = await getToken(force); } catch { throw sessionExpired(); }
    force = false;
    const response = await slot(() => fetch(S.api + '/graphql', {
      method: 'POST', mode: 'cors', credentials: 'omit',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ' + token },
      body: JSON.stringify({ query, variables }),
    }));
    status = response.status;
    if (response.status === 401) {
      // One fresh token; a second 401 means the host cannot give one.
      if (refreshed) break;
      refreshed = force = true;
      continue;
    }
    if (response.status === 429 || response.status === 503) {
      await sleep(1000 * Math.min(5, Number(response.headers.get('retry-after')) || 1) * (1 + Math.random() * 0.3));
      continue;
    }
    const body = await response.json().catch(() => ({}));
    if (body.errors && body.errors.length) throw new PanelError('api', body.errors[0].message);
    if (!response.ok) throw new PanelError('api', (body.error && body.error.message) || `HTTP ${response.status}`);
    return body.data;
  }
  // Still busy after a few waits: an error of the moment, not of the session.
  if (status !== 401) throw new PanelError('api', t('failed'));
  throw sessionExpired();
}

// A mutation's userErrors become one thrown error with their messages.
async function mutate(name, input) {
  const data = await gql(Q[name], { input });
  const payload = Object.values(data)[0];
  if (payload && payload.userErrors && payload.userErrors.length) {
    throw new PanelError('user', payload.userErrors.map((e) => e.message).join(' '));
  }
  return payload;
}

// The first page asked for at start, once, if the inbox asks for exactly that.
function takePrefetched(variables) {
  const found = S.prefetched;
  S.prefetched = null;
  return found && found.key === JSON.stringify(variables) ? found.answer : null;
}

const edges = (conn) => (conn ? conn.edges.map((e) => e.node) : []);

// ---------------------------------------------------------------- live updates
// One stream per page, read with fetch (EventSource cannot send the bearer header). It resumes
// from the last event id, so a reconnect misses nothing; failures back off up to 30 s.
async function stream() {
  if (S.streaming) return;
  S.streaming = true;
  let delay = 1000;
  let after = null;
  for (;;) {
    try {
      const token = await getToken(false);
      const url = S.api + '/v1/panel/stream' + (after ? '?after=' + encodeURIComponent(after) : '');
      const response = await fetch(url, { headers: { authorization: 'Bearer ' + token }, credentials: 'omit', cache: 'no-store' });
      // A refused token is renewed, then the stream waits its turn like any failure: a host that
      // keeps handing out bad tokens is not asked in a tight loop.
      if (response.status === 401) { await getToken(true); throw new PanelError('stream'); }
      if (!response.ok || !response.body) throw new PanelError('stream');
      delay = 1000;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id:')) after = line.slice(3).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (data) { try { const event = JSON.parse(data); S.listeners.forEach((fn) => fn(event)); } catch { /* a broken line is skipped */ } }
        }
      }
    } catch { /* reconnect below */ }
    await sleep(delay + Math.random() * delay * 0.5);
    delay = Math.min(delay * 2, 30000);
  }
}

// ---------------------------------------------------------------- the base element
class Part extends HTMLElement {
  constructor() {
    super();
    this.attachShadow({ mode: 'open', delegatesFocus: true });
    this.shadowRoot.adoptedStyleSheets = [sheet, themeSheet];
    this.state = {};
    this.reloadTimer = 0;
  }

  connectedCallback() {
    S.parts.add(this);
    applyScheme(this);
    this.onEvent = (event) => {
      if (this.wants(event)) { clearTimeout(this.reloadTimer); this.reloadTimer = setTimeout(() => this.reload(), 250); }
    };
    S.listeners.add(this.onEvent);
    this.start();
  }

  disconnectedCallback() {
    S.parts.delete(this);
    S.listeners.delete(this.onEvent);
  }

  async start() {
    await ready;
    if (!this.isConnected) return;
    applyScheme(this);
    this.render();
    await this.reload();
    if (!this.announced) { this.announced = true; emit(this, 'embedcrm:ready', { component: this.localName }); }
  }

  // The skeleton: built again when the locale changes; state (filters, pages) lives on.
  render() {}
  async reload() {}
  wants() { return false; }

  // Runs an action, showing what went wrong in the element's status line.
  async act(fn) {
    try { await fn(); return true; } catch (error) { this.fail(error); return false; }
  }

  fail(error) {
    if (error && error.type === 'session_expired') return;
    emit(this, 'embedcrm:error', { type: error && error.type || 'api', message: error && error.message });
    if (this.status) this.status.textContent = error && error.message || t('failed');
  }

  showExpired() {
    const banner = h('div', { class: 'banner', role: 'alert' }, t('expired'), ' ',
      h('button', { type: 'button', onclick: () => getToken(true).then(() => { banner.remove(); this.reload(); }).catch(() => {}) }, t('retry')));
    this.shadowRoot.prepend(banner);
  }

  statusLine() {
    this.status = h('p', { class: 'err small', role: 'status', 'aria-live': 'polite' });
    return this.status;
  }

  openLead(leadId) {
    const proceed = this.dispatchEvent(new CustomEvent('embedcrm:lead-open', { bubbles: true, composed: true, cancelable: true, detail: { leadId } }));
    if (!proceed) return;
    const dialog = h('dialog', { 'aria-label': t('title') });
    const card = h('embedcrm-lead', { 'lead-id': leadId });
    card.addEventListener('embedcrm:lead-loaded', (e) => dialog.setAttribute('aria-label', e.detail.title));
    dialog.append(
      h('div', { class: 'dialog-head' }, h('button', { type: 'button', onclick: () => dialog.close() }, t('close'))),
      h('div', { class: 'dialog-body' }, card),
    );
    dialog.addEventListener('close', () => { dialog.remove(); this.reload(); });
    this.shadowRoot.append(dialog);
    dialog.showModal();
  }
}

// A small modal asking for one line of text (the reason a lead was won or lost).
function ask(root, question, label = t('reason')) {
  return new Promise((resolve) => {
    const input = h('input', { type: 'text', required: true, maxlength: '500' });
    const dialog = h('dialog', { class: 'small', 'aria-label': question });
    const form = h('form', { method: 'dialog', class: 'dialog-body' },
      h('h3', { text: question }), field(label, input),
      h('div', { class: 'bar' }, h('button', { class: 'primary', value: 'ok' }, t('ok')),
        h('button', { type: 'button', onclick: () => dialog.close('') }, t('cancel'))));
    dialog.append(form);
    dialog.addEventListener('close', () => { dialog.remove(); resolve(dialog.returnValue === 'ok' ? input.value.trim() : null); });
    root.append(dialog);
    dialog.showModal();
  });
}

const stagesOf = (pipelineId) => {
  const pipelines = (S.boot && S.boot.pipelines) || [];
  const pipeline = pipelines.find((p) => p.id === pipelineId) || pipelines.find((p) => p.isDefault) || pipelines[0];
  return pipeline ? pipeline.stages : [];
};
const allStages = () => ((S.boot && S.boot.pipelines) || []).flatMap((p) => p.stages);
const isOwner = () => S.claims.r === 'OWNER';

// Moving a lead, asking the reason when the stage closes it.
async function moveLead(root, leadId, stage) {
  let reason = null;
  if (stage.kind === 'WON' || stage.kind === 'LOST') {
    reason = await ask(root, t(stage.kind === 'WON' ? 'reasonWon' : 'reasonLost'));
    if (reason === null) return false;
  }
  await mutate('MoveLead', { leadId, stageId: stage.id, reason: reason || null });
  return true;
}

// ---------------------------------------------------------------- charts (SVG, role="img")
function chartFrame(label, svg, table) {
  return h('figure', { class: 'card' },
    h('h3', { text: label }), svg,
    h('details', null, h('summary', { text: t('showTable') }), h('div', { class: 'scroll' }, table)));
}
function barChart(label, rows, valueOf, labelOf, noteOf) {
  const width = 480, row = 26, pad = 120;
  const max = Math.max(1, ...rows.map(valueOf));
  const svg = s('svg', { role: 'img', 'aria-label': label, viewBox: `0 0 ${width} ${Math.max(row, rows.length * row) + 8}`, width: String(width) },
    s('title', { text: label }),
    rows.map((r, i) => {
      const w = Math.max(2, ((width - pad - 150) * valueOf(r)) / max);
      return s('g', { transform: `translate(0 ${i * row + 4})` },
        s('text', { x: '0', y: '17', text: String(labelOf(r)).slice(0, 16) }),
        s('rect', { class: 'bar-fill', x: String(pad), y: '4', width: String(w), height: '18', rx: '3' }),
        s('text', { x: String(pad + w + 6), y: '17', text: noteOf ? noteOf(r) : fmtNum(valueOf(r)) }));
    }));
  return svg;
}
function columnChart(label, points) {
  const width = 480, height = 190, base = 160;
  const max = Math.max(1, ...points.map((p) => p.leads));
  const step = points.length ? (width - 40) / points.length : 0;
  return s('svg', { role: 'img', 'aria-label': label, viewBox: `0 0 ${width} ${height}`, width: String(width) },
    s('title', { text: label }),
    s('line', { class: 'axis', x1: '30', y1: String(base), x2: String(width), y2: String(base) }),
    s('text', { x: '0', y: '14', text: fmtNum(max) }),
    points.map((p, i) => {
      const hgt = ((base - 20) * p.leads) / max;
      const wonH = ((base - 20) * p.won) / max;
      return s('g', null,
        s('rect', { class: 'bar-fill', x: String(34 + i * step), y: String(base - hgt), width: String(Math.max(1, step * 0.7)), height: String(hgt) }),
        s('rect', { class: 'bar-alt', x: String(34 + i * step), y: String(base - wonH), width: String(Math.max(1, step * 0.7)), height: String(wonH) }),
        (points.length <= 6 || i % Math.ceil(points.length / 5) === 0)
          ? s('text', { x: String(34 + i * step), y: String(base + 16), text: new Intl.DateTimeFormat(S.locale, { day: 'numeric', month: 'short', timeZone: tz() }).format(new Date(p.startsAt)) })
          : null);
    }));
}
function table(headers, rows) {
  return h('table', null,
    h('thead', null, h('tr', null, headers.map(([text, num]) => h('th', { class: num ? 'num' : null, scope: 'col' }, text)))),
    h('tbody', null, rows.map((cells) => h('tr', null, cells.map((c, i) => h('td', { class: headers[i] && headers[i][1] ? 'num' : null }, c))))));
}

// ---------------------------------------------------------------- <embedcrm-inbox>
class Inbox extends Part {
  constructor() {
    super();
    this.state = { search: '', stageId: '', siteId: '', assignee: '', utmSource: '', tag: '', from: '', to: '', segmentId: '', status: 'OPEN', sort: 'UNANSWERED_FIRST' };
    this.rows = [];
    this.selected = new Set();
  }

  wants(event) { return event.type.startsWith('lead.'); }

  filter() {
    const st = this.state;
    const f = {};
    if (st.search.trim()) f.search = st.search.trim();
    if (st.stageId) f.stageId = st.stageId;
    if (st.siteId) f.siteId = st.siteId;
    if (st.assignee === '-') f.unassigned = true;
    else if (st.assignee) f.assigneeId = st.assignee;
    if (st.utmSource.trim()) f.utmSource = st.utmSource.trim();
    if (st.tag) f.tags = [st.tag];
    if (st.from) f.createdFrom = localToIso(st.from + 'T00:00');
    if (st.to) f.createdTo = localToIso(st.to + 'T23:59');
    if (st.status) f.status = st.status;
    return f;
  }

  control(key, el, event = 'change') {
    el.addEventListener(event, () => { this.state[key] = el.value; this.debounced(); });
    return el;
  }

  debounced() {
    clearTimeout(this.typing);
    this.typing = setTimeout(() => this.reload(), 80);
  }

  render() {
    const st = this.state;
    const boot = S.boot;
    const stageOptions = [['', t('anyStage')], ...allStages().map((x) => [x.id, x.name])];
    const members = [['', t('anyManager')], ['-', t('unassigned')], ...boot.members.map((m) => [m.id, m.name || m.id])];
    this.segmentSelect = this.control('segmentId', h('select', null, options([['', t('noSegment')]], st.segmentId)));
    this.body = h('tbody');
    this.count = h('p', { class: 'muted small', 'aria-live': 'polite' });
    this.moreButton = h('button', { type: 'button', onclick: () => this.reload(true) }, t('more'));
    this.bulk = this.bulkBar();
    this.shadowRoot.replaceChildren(
      h('div', { class: 'bar', role: 'search' },
        field(t('search'), this.control('search', h('input', { type: 'search', value: st.search, placeholder: t('searchHint'), autocomplete: 'off' }), 'input'), 'grow')),
      h('details', { class: 'filters', open: matchMedia('(min-width: 641px)').matches }, h('summary', { text: t('filters') }), h('div', { class: 'bar' },
        field(t('status'), this.control('status', h('select', null, options([['OPEN', t('open')], ['WON', t('won')], ['LOST', t('lost')], ['', t('all')]], st.status)))),
        field(t('sort'), this.control('sort', h('select', null, options([['UNANSWERED_FIRST', t('unansweredFirst')], ['NEWEST', t('newest')]], st.sort)))),
        field(t('stage'), this.control('stageId', h('select', null, options(stageOptions, st.stageId)))),
        field(t('manager'), this.control('assignee', h('select', null, options(members, st.assignee)))),
        boot.sites.length > 1 ? field(t('source') + ': ' + t('anySite').toLowerCase(), this.control('siteId', h('select', null, options([['', t('anySite')], ...boot.sites.map((x) => [x.id, x.name])], st.siteId)))) : null,
        field('utm_source', this.control('utmSource', h('input', { type: 'text', value: st.utmSource, size: '10' }), 'input')),
        boot.tags.length ? field(t('tag'), this.control('tag', h('select', null, options([['', t('anyTag')], ...boot.tags.map((x) => [x.name, x.name])], st.tag)))) : null,
        field(t('from'), this.control('from', h('input', { type: 'date', value: st.from }))),
        field(t('to'), this.control('to', h('input', { type: 'date', value: st.to }))),
        field(t('segment'), this.segmentSelect),
        h('button', { type: 'button', onclick: () => this.act(async () => {
          const name = await ask(this.shadowRoot, t('segmentName'), t('name'));
          if (!name) return;
          const made = await mutate('CreateSegment', { name, leadFilter: this.filter() });
          this.state.segmentId = made.segment.id;
          this.loadSegments();
        }) }, t('saveSegment')))),
      this.bulk,
      this.statusLine(),
      h('div', { class: 'scroll' },
        h('table', { 'aria-label': t('leads') },
          h('thead', null, h('tr', null,
            h('th', { scope: 'col' }, h('input', { type: 'checkbox', 'aria-label': t('selectAll'), onchange: (e) => this.selectAll(e.target.checked) })),
            h('th', { scope: 'col' }, t('title')), h('th', { scope: 'col' }, t('stage')),
            h('th', { scope: 'col', class: 'num hide-narrow' }, t('value')),
            h('th', { scope: 'col', class: 'hide-narrow' }, t('manager')),
            h('th', { scope: 'col', class: 'hide-narrow' }, t('source')),
            h('th', { scope: 'col', class: 'hide-narrow' }, t('created')))),
          this.body)),
      this.count, this.moreButton);
    this.loadSegments();
  }

  loadSegments() {
    gql(Q.Segments).then((data) => {
      const leadSegments = edges(data.segments).filter((x) => x.entity === 'LEAD');
      this.segmentSelect.replaceChildren(...options([['', t('noSegment')], ...leadSegments.map((x) => [x.id, `${x.name} (${fmtNum(x.count)})`])], this.state.segmentId));
    }).catch(() => {});
  }

  bulkBar() {
    const stage = h('select', null, options(allStages().map((x) => [x.id, x.name])));
    const member = h('select', null, options([['', t('unassigned')], ...S.boot.members.map((m) => [m.id, m.name || m.id])]));
    this.selectedCount = h('span', { class: 'muted small' });
    const bar = h('div', { class: 'bar', hidden: true },
      this.selectedCount,
      field(t('moveTo'), stage),
      h('button', { type: 'button', onclick: () => this.act(async () => {
        const target = allStages().find((x) => x.id === stage.value);
        let reason = null;
        if (target.kind !== 'OPEN') { reason = await ask(this.shadowRoot, t(target.kind === 'WON' ? 'reasonWon' : 'reasonLost')); if (reason === null) return; }
        await mutate('BulkMove', { leadIds: [...this.selected], stageId: target.id, reason });
        this.selected.clear(); await this.reload();
      }) }, t('apply')),
      field(t('assignTo'), member),
      h('button', { type: 'button', onclick: () => this.act(async () => {
        await mutate('BulkAssign', { leadIds: [...this.selected], assigneeId: member.value || null });
        this.selected.clear(); await this.reload();
      }) }, t('apply')));
    return bar;
  }

  selectAll(on) {
    this.rows.forEach((lead) => (on ? this.selected.add(lead.id) : this.selected.delete(lead.id)));
    this.body.querySelectorAll('input[type=checkbox]').forEach((box) => { box.checked = on; });
    this.updateBulk();
  }

  updateBulk() {
    this.bulk.hidden = this.selected.size === 0;
    this.selectedCount.textContent = `${t('selected')}: ${this.selected.size}`;
  }

  async reload(more = false) {
    if (!this.body) return;
    const serial = (this.serial = (this.serial || 0) + 1);
    const after = more ? this.cursor : null;
    try {
      const variables = { first: 50, after, filter: this.filter(), segmentId: this.state.segmentId || null, sort: this.state.sort };
      const data = await (takePrefetched(variables) || gql(Q.Inbox, variables));
      // A slower answer to an older filter must not overwrite a newer one.
      if (serial !== this.serial) return;
      const page = data.leads;
      const leads = edges(page);
      this.rows = more ? [...this.rows, ...leads] : leads;
      this.cursor = page.pageInfo.endCursor;
      if (!more) {
        this.body.replaceChildren();
        // A live reload keeps what is still listed selected.
        const listed = new Set(leads.map((lead) => lead.id));
        [...this.selected].forEach((id) => { if (!listed.has(id)) this.selected.delete(id); });
      }
      this.body.append(...leads.map((lead) => this.row(lead)));
      if (!this.rows.length) this.body.append(h('tr', null, h('td', { colspan: '7', class: 'muted' }, t('none'))));
      this.count.textContent = fmtNum(this.rows.length) + (page.pageInfo.hasNextPage ? '+' : '');
      // The total is counted apart, after the rows are drawn, and no further than 10 000
      // ("10 000+"): on a large workspace counting every match costs more than the page.
      const shown = () => { this.count.textContent = `${fmtNum(this.rows.length)} ${t('of')} ${this.total}`; };
      if (!more) {
        this.total = null;
        gql(Q.InboxCount, { filter: this.filter(), segmentId: this.state.segmentId || null }).then((c) => {
          if (serial !== this.serial) return;
          const n = c.leads.totalCountUpTo;
          this.total = fmtNum(n.count) + (n.reachedLimit ? '+' : '');
          shown();
        }).catch(() => {});
      } else if (this.total != null) shown();
      this.moreButton.hidden = !page.pageInfo.hasNextPage;
      this.status.textContent = '';
      this.updateBulk();
    } catch (error) { this.fail(error); }
  }

  row(lead) {
    const contact = lead.contact || {};
    const who = [contact.name, contact.phone, contact.email].filter(Boolean).join(' · ');
    const value = fmtMoney(lead.value, lead.currency);
    return h('tr', null,
      h('td', null, h('input', { type: 'checkbox', 'aria-label': `${t('select')}: ${lead.title}`, checked: this.selected.has(lead.id),
        onchange: (e) => { e.target.checked ? this.selected.add(lead.id) : this.selected.delete(lead.id); this.updateBulk(); } })),
      h('td', null, h('button', { type: 'button', class: 'link', onclick: () => this.openLead(lead.id) }, lead.title),
        h('div', { class: 'muted small' }, who || t('noContact')),
        value ? h('div', { class: 'small show-narrow' }, value) : null),
      h('td', null, h('span', { class: 'badge ' + (lead.stage ? lead.stage.kind : '') }, lead.stage ? lead.stage.name : ''),
        lead.status === 'OPEN' && !lead.firstResponseAt ? [' ', h('span', { class: 'badge new' }, t('unanswered'))] : null),
      h('td', { class: 'num hide-narrow' }, fmtMoney(lead.value, lead.currency)),
      h('td', { class: 'hide-narrow' }, lead.assignee ? lead.assignee.name : '—'),
      h('td', { class: 'hide-narrow' }, (lead.source && lead.source.utmSource) || (lead.channel ? t(lead.channel) : '')),
      h('td', { class: 'hide-narrow' }, fmtDate(lead.createdAt)));
  }
}

// ---------------------------------------------------------------- <embedcrm-lead>
class LeadCard extends Part {
  static get observedAttributes() { return ['lead-id']; }
  attributeChangedCallback() { if (this.rendered) this.reload(); }
  wants(event) { return event.leadId && this.getAttribute('lead-id') && atobId(this.getAttribute('lead-id')) === event.leadId; }

  render() {
    this.framed = null;
    this.rendered = true;
    this.shadowRoot.replaceChildren(h('p', { class: 'muted', role: 'status' }, t('loading')));
  }

  async reload() {
    if (!this.rendered) return;
    const id = this.getAttribute('lead-id');
    if (!id) return;
    try {
      // Invoices and messages are read beside the card; a token or role without them hides
      // their part of the card instead of failing it.
      const [data, proposals, invoices] = await Promise.all([gql(Q.Lead, { id }), gql(Q.Proposals).catch(() => null), gql(Q.LeadInvoices, { leadId: id }).catch(() => null)]);
      const lead = data.node;
      if (!lead) { this.framed = null; this.shadowRoot.replaceChildren(h('p', null, t('none'))); return; }
      this.lead = lead;
      this.invoices = invoices && edges(invoices.invoices);
      this.messages = lead.contact ? await gql(Q.ContactMessages, { contactId: lead.contact.id }).catch(() => null) : null;
      this.proposals = proposals ? edges(proposals.mergeProposals).filter((p) => lead.contact && [p.contact && p.contact.id, p.otherContact && p.otherContact.id].includes(lead.contact.id)) : [];
      this.paint();
      this.dispatchEvent(new CustomEvent('embedcrm:lead-loaded', { detail: { title: lead.title } }));
    } catch (error) {
      if (!this.framed) this.shadowRoot.replaceChildren(this.statusLine());
      this.fail(error);
    }
  }

  // The card's frame (heading, forms) is built once per lead and kept: a live update redraws
  // the facts, tasks and timeline around it, never what the owner is typing.
  frame() {
    const headingId = nextId('lead');
    this.heading = h('h2', { id: headingId });
    this.stageBar = h('div', { class: 'bar' });
    this.facts = h('div', { class: 'grid' });
    this.merges = h('div');
    this.taskList = h('ul', { class: 'timeline' });
    this.timelineList = h('ol', { class: 'timeline' });
    this.main = h('section', { role: 'region', class: 'stack', 'aria-labelledby': headingId },
      this.heading, this.statusLine(), this.stageBar, this.facts, this.merges, this.invoiceBox = h('div'),
      h('div', { class: 'grid' },
        h('div', { class: 'card' }, h('h3', { text: t('tasks') }), this.taskList, this.taskForm()),
        this.activityBlock()),
      h('div', { class: 'card' }, h('h3', { text: t('timeline') }), this.timelineList));
    this.shadowRoot.replaceChildren(this.main);
    this.framed = this.lead.id;
    this.keptForms = new Map();
  }

  // A live update redraws the card, and must not wipe what is being typed: a form that takes
  // typing is built once per key and kept until the card shows another lead.
  kept(key, build) {
    let form = this.keptForms.get(key);
    if (!form) this.keptForms.set(key, form = build());
    return form;
  }

  paint() {
    const lead = this.lead;
    if (this.framed !== lead.id) this.frame();
    const contact = lead.contact;
    const stageSelect = h('select', null, options(stagesOf(lead.pipelineId).map((x) => [x.id, x.name]), lead.stage && lead.stage.id));
    stageSelect.addEventListener('change', () => this.act(async () => {
      const stage = stagesOf(lead.pipelineId).find((x) => x.id === stageSelect.value);
      if (!(await moveLead(this.shadowRoot, lead.id, stage))) { stageSelect.value = lead.stage.id; return; }
      await this.reload();
    }));
    const info = [
      [t('value'), fmtMoney(lead.value, lead.currency) || '—'],
      [t('manager'), lead.assignee ? lead.assignee.name : '—'],
      [t('created'), fmtDate(lead.createdAt)],
      [t('source'), [lead.source.utmSource, lead.source.utmMedium, lead.source.utmCampaign].filter(Boolean).join(' / ') || (lead.channel && t(lead.channel)) || lead.source.referrer || '—'],
      lead.form ? [t('form'), lead.form] : null,
    ].filter(Boolean);
    const order = lead.order;
    const orderRows = [
      [t('payment'), order.paymentMethod], [t('order'), fmtDate(order.orderedAt)],
      [t('delivery'), order.deliveryMethod], [t('address'), order.deliveryAddress],
      [t('delivery') + ' ' + t('from').toLowerCase(), fmtDate(order.deliveryFrom)],
      [t('delivery') + ' ' + t('to').toLowerCase(), fmtDate(order.deliveryTo)],
    ].filter(([, v]) => v);
    const custom = Object.entries(lead.customFields || {});
    this.heading.textContent = lead.title;
    this.stageBar.replaceChildren(field(t('stage'), stageSelect),
      h('span', { class: 'badge ' + lead.status }, t(lead.status.toLowerCase())));
    const typing = this.shadowRoot.activeElement;
    this.facts.replaceChildren(...[
      h('div', { class: 'card' }, h('h3', { text: t('contact') }), contact ? h('dl', null,
        contact.name ? [h('dt', { text: t('contact') }), h('dd', { text: contact.name })] : null,
        this.pointRows(contact),
        [[t('company'), contact.company], [t('personalManager'), contact.manager && contact.manager.name],
          ...Object.entries(contact.customFields || {}).filter(([, v]) => /[@+\d]/.test(String(v))).map(([k, v]) => [k, String(v)])]
          .filter(([, v]) => v).map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])) : h('p', { class: 'muted' }, t('noContact')),
        contact ? this.pointForm(contact) : null),
      h('div', { class: 'card' }, h('h3', { text: t('title') }),
        h('dl', null, info.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])),
        lead.message ? h('p', { text: lead.message }) : null,
        this.tagLine(lead)),
      lead.items.length ? h('div', { class: 'card' }, h('h3', { text: t('cart') }),
        table([[t('items')], [t('qty'), 1], [t('price'), 1]], lead.items.map((i) => [i.product + (i.sku ? ` (${i.sku})` : ''), fmtNum(Number(i.quantity), 3), fmtMoney(i.unitPrice, lead.currency)])),
        h('p', { class: 'num' }, `${t('total')}: ${fmtMoney(lead.itemsTotal, lead.currency)}`)) : null,
      orderRows.length ? h('div', { class: 'card' }, h('h3', { text: t('order') }), h('dl', null, orderRows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]))) : null,
      custom.length ? h('div', { class: 'card' }, h('h3', { text: t('customFields') }), h('dl', null, custom.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: typeof v === 'object' ? JSON.stringify(v) : String(v) })]))) : null,
    ].filter(Boolean));
    this.merges.replaceChildren(...(this.proposals.length ? [this.mergeBlock()] : []), ...(this.undoLine ? [this.undoLine] : []));
    this.taskList.replaceChildren(...edges(lead.tasks).map((task) => taskRow(this, task)));
    // Invoices show once there is one, or a cart to invoice.
    this.invoiceBox.replaceChildren(...(this.invoices && (this.invoices.length || lead.items.length) ? [this.invoiceCard()] : []));
    // A kept form moved into the redrawn facts or invoices: give back the focus the move took.
    if (typing && typing.isConnected && this.shadowRoot.activeElement !== typing) typing.focus();
    // The timeline: the lead's activities, the contact's messages with their status, and the
    // contact's feedback answers, newest first.
    const m = this.messages;
    const entries = [
      ...edges(lead.timeline).map((a) => [a.createdAt, `${t(a.kind)}${a.author ? ' · ' + a.author.name : ''}`, null,
        a.kind === 'STAGE_CHANGE' ? [a.data.from && a.data.from.name, a.data.to && a.data.to.name].filter(Boolean).join(' → ') || a.body : a.body || '']),
      ...(m ? edges(m.messages) : []).map((x) => [x.createdAt, `${t('MESSAGE')} · ${t(x.channel)} · ${x.recipient}`,
        h('span', { class: 'badge ' + (x.status === 'FAILED' ? 'LOST' : x.status === 'DELIVERED' ? 'WON' : '') }, t(x.status)),
        [x.subject, x.body].filter(Boolean).join(' — ').slice(0, 300) + (x.lastError ? ` (${x.lastError})` : '')]),
      ...(m ? edges(m.feedbackAnswers) : []).map((x) => [x.createdAt, `${t('FEEDBACK')} · ${t(x.kind)}`, null,
        `${t('score')}: ${x.score}${x.comment ? ' — ' + x.comment : ''}`]),
    ].sort((a, b) => (a[0] < b[0] ? 1 : -1));
    this.timelineList.replaceChildren(...entries.map(([at, what, badge, text]) => h('li', null,
      h('div', { class: 'small muted' }, `${fmtDate(at)} · ${what} `, badge), h('div', { text }))));
  }

  invoiceCard() {
    const lead = this.lead;
    return h('div', { class: 'card' }, h('h3', { text: t('invoices') }),
      this.invoices.length ? h('div', { class: 'scroll' }, h('table', { 'aria-label': t('invoices') },
        h('thead', null, h('tr', null, [[t('invoice')], [t('status')], [t('total'), 1], [t('paid'), 1], [t('outstanding'), 1], [t('dueOn')], ['']]
          .map(([x, num]) => h('th', { scope: 'col', class: num ? 'num' : null }, x || h('span', { class: 'sr' }, t('print')))))),
        h('tbody', null, this.invoices.map((i) => {
          const name = i.number ? `№ ${i.number}` : `${t('invoice')} (${t('draft')})`;
          return h('tr', null, h('td', null, name), h('td', null, h('span', { class: 'badge ' + (i.status === 'PAID' ? 'WON' : '') }, t(i.status))),
            h('td', { class: 'num' }, fmtMoney(i.total, i.currency)), h('td', { class: 'num' }, fmtMoney(i.paid, i.currency)),
            h('td', { class: 'num' }, fmtMoney(i.outstanding, i.currency)), h('td', null, i.dueOn ? fmtDate(i.dueOn, false) : '—'),
            h('td', null, i.status === 'DRAFT'
              ? h('button', { type: 'button', class: 'link small', 'aria-label': `${t('issue')}: ${name}`, onclick: () => this.act(async () => { await mutate('IssueInvoice', { id: i.id }); await this.reload(); }) }, t('issue'))
              : h('a', { href: i.printUrl, target: '_blank', rel: 'noopener', class: 'small', 'aria-label': `${t('print')}: ${name}` }, t('print'))));
        })))) : h('p', { class: 'muted' }, t('empty')),
      ...this.invoices.map((i) => this.paymentBox(i)),
      lead.items.length ? h('div', { class: 'bar' }, h('button', { type: 'button', onclick: () => this.act(async () => {
        await mutate('CreateInvoice', { leadId: lead.id });
        await this.reload();
      }) }, t('fromCart'))) : null);
  }

  // An issued invoice's payments, and a payment taken by hand (cash, a bank transfer): the
  // amount starts at what is still owed.
  paymentBox(i) {
    const payable = i.status === 'ISSUED' || i.status === 'PARTLY_PAID';
    if (!payable && !i.payments.length) return null;
    const name = `№ ${i.number}`;
    // Keyed by what is owed too: once a payment is recorded the field offers the new balance.
    const form = payable ? this.kept(`pay:${i.id}:${i.outstanding}`, () => {
      const amount = h('input', { type: 'text', inputmode: 'decimal', size: '10', value: i.outstanding });
      return h('form', { class: 'bar', onsubmit: (e) => { e.preventDefault(); this.act(async () => {
        await mutate('RecordPayment', { invoiceId: i.id, amount: amount.value.trim().replace(',', '.') });
        await this.reload();
      }); } }, field(`${t('payAmount')}: ${name}`, amount),
        h('button', { type: 'submit', 'aria-label': `${t('recordPayment')}: ${name}` }, t('recordPayment')));
    }) : null;
    return h('div', null,
      i.payments.length ? h('ul', { 'aria-label': `${t('payments')}: ${name}` }, i.payments.map((x) =>
        h('li', { class: 'small' }, `${fmtDate(x.paidAt, false)} · ${fmtMoney(x.amount, x.currency)} · ${t('paid' + x.source)}`))) : null,
      form);
  }

  // Every phone and e-mail of the contact, as tel: and mailto: links with their labels and
  // which one is primary; each made primary or removed with a button named after it.
  pointRows(contact) {
    const change = (name, input) => this.act(async () => { await mutate(name, input); await this.reload(); });
    return [['PHONE', 'phones', contact.phones], ['EMAIL', 'emails', contact.emails]].filter(([, , list]) => list.length)
      .map(([kind, key, list]) => [h('dt', { text: t(key) }), h('dd', null, h('ul', { class: 'points', 'aria-label': t(key) }, list.map((p) => h('li', null,
        h('a', { href: kind === 'PHONE' ? 'tel:' + (p.e164 || p.value.replace(/[^\d+]/g, '')) : 'mailto:' + p.value }, p.value),
        p.label ? [' ', h('span', { class: 'small muted' }, p.label)] : null,
        p.primary ? [' ', h('span', { class: 'badge' }, t('primary'))]
          : [' ', h('button', { type: 'button', class: 'link small', 'aria-label': `${t('makePrimary')}: ${p.value}`, onclick: () => change('UpdateContactPoint', { id: p.id, primary: true }) }, t('makePrimary'))],
        ' ', h('button', { type: 'button', class: 'link small', 'aria-label': `${t('removePoint')}: ${p.value}`, onclick: () => change('RemoveContactPoint', { id: p.id }) }, '×')))))]);
  }

  pointForm(contact) {
    return this.kept(`point:${contact.id}`, () => {
      const kind = h('select', null, options([['PHONE', t('phone')], ['EMAIL', t('email')]], 'PHONE'));
      const value = h('input', { type: 'text', maxlength: '320', size: '16', autocomplete: 'off' });
      const label = h('input', { type: 'text', maxlength: '40', size: '8', list: nextId('labels') });
      return h('form', { class: 'bar', 'aria-label': t('addPoint'), onsubmit: (e) => { e.preventDefault(); if (value.value.trim()) this.act(async () => {
        await mutate('AddContactPoint', { contactId: contact.id, kind: kind.value, value: value.value.trim(), label: label.value.trim() || null });
        value.value = label.value = '';
        await this.reload();
      }); } }, field(t('pointKind'), kind), field(t('pointValue'), value), field(t('pointLabel'), label),
      h('datalist', { id: label.getAttribute('list') }, ['mobile', 'work', 'home'].map((k) => h('option', { value: t(k) }))),
      h('button', { type: 'submit', 'aria-label': t('addPoint') }, '+'));
    });
  }

  tagLine(lead) {
    const tag = (change) => this.act(async () => { await mutate('TagRecords', { ids: [lead.id], ...change }); await this.reload(); });
    const form = this.kept('tags', () => {
      const input = h('input', { type: 'text', maxlength: '100', size: '10', list: nextId('tags') });
      const suggestions = h('datalist', { id: input.getAttribute('list') }, S.boot.tags.map((x) => h('option', { value: x.name })));
      return h('form', { class: 'bar', onsubmit: (e) => { e.preventDefault(); const name = input.value.trim(); if (name) this.act(async () => {
        await mutate('TagRecords', { ids: [lead.id], add: [name] });
        input.value = '';
        await this.reload();
      }); } }, field(t('addTag'), input), suggestions, h('button', { type: 'submit', 'aria-label': t('addTag') }, '+'));
    });
    return h('div', null,
      h('p', null, lead.tags.map((x) => [h('span', { class: 'badge' }, x.name, ' ',
        h('button', { type: 'button', class: 'link small', 'aria-label': `${t('removeTag')}: ${x.name}`, onclick: () => tag({ remove: [x.name] }) }, '×')), ' '])),
      form);
  }

  activityBlock() {
    const kind = h('select', null, options(['NOTE', 'CALL', 'MEETING', 'EMAIL'].map((k) => [k, t(k)]), 'NOTE'));
    const body = h('textarea', { required: true, maxlength: '10000' });
    return h('form', { class: 'card', onsubmit: (e) => { e.preventDefault(); this.act(async () => {
      await mutate('AddActivity', { kind: kind.value, body: body.value, leadId: this.lead.id });
      body.value = '';
      await this.reload();
    }); } }, h('h3', { text: t('addActivity') }), h('div', { class: 'bar' }, field(t('kind'), kind)), field(t('text'), body),
    h('div', { class: 'bar' }, h('button', { class: 'primary' }, t('add'))));
  }

  taskForm() {
    const title = h('input', { type: 'text', required: true, maxlength: '500' });
    const due = h('input', { type: 'datetime-local', required: true });
    return h('form', { onsubmit: (e) => { e.preventDefault(); this.act(async () => {
      await mutate('CreateTask', { title: title.value, dueAt: localToIso(due.value), leadId: this.lead.id });
      title.value = '';
      await this.reload();
    }); } }, h('div', { class: 'bar' }, field(t('task'), title, 'grow'), field(t('due'), due),
      h('button', { class: 'primary' }, t('addTask'))));
  }

  mergeBlock() {
    return h('div', { class: 'card' }, h('h3', { text: t('merges') }), this.proposals.map((p) => {
      const other = p.contact.id === this.lead.contact.id ? p.otherContact : p.contact;
      return h('div', { class: 'bar' },
        h('span', null, [other.name, other.email, other.phone].filter(Boolean).join(' · '), ' ', h('span', { class: 'muted small' }, p.reason)),
        h('button', { type: 'button', onclick: () => this.act(async () => {
          const done = await mutate('AcceptMerge', { id: p.id, keepId: this.lead.contact.id });
          const mergeId = done.merge && done.merge.id;
          this.undoLine = mergeId ? h('p', { role: 'status' }, t('merged'), ' ',
            h('button', { type: 'button', onclick: () => this.act(async () => { await mutate('UndoMerge', { id: mergeId }); this.undoLine = null; await this.reload(); }) }, t('undo'))) : null;
          await this.reload();
        }) }, t('accept')),
        h('button', { type: 'button', onclick: () => this.act(async () => { await mutate('DismissMerge', { id: p.id }); await this.reload(); }) }, t('dismiss')));
    }));
  }
}

// The raw row id inside a global id, to match live events (which carry raw ids) to a card.
function atobId(globalId) {
  try {
    const raw = atob(globalId.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (globalId.length % 4)) % 4)).split(':')[2];
    return raw.replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
  } catch { return null; }
}

function taskRow(part, task) {
  const box = h('input', { type: 'checkbox', checked: task.done, 'aria-label': `${t('complete')}: ${task.title}` });
  box.addEventListener('change', () => part.act(async () => { await mutate('UpdateTask', { id: task.id, done: box.checked }); await part.reload(); }));
  return h('li', null, h('label', { class: 'check' }, box,
    h('span', null, h('span', { text: task.title, class: task.done ? 'muted' : null }), ' ',
      h('span', { class: 'small ' + (task.overdue ? 'err' : 'muted') }, task.dueAt ? fmtDate(task.dueAt) : t('noDue')),
      task.assignee ? h('span', { class: 'small muted' }, ' · ' + task.assignee.name) : null)));
}

// ---------------------------------------------------------------- <embedcrm-board>
class Board extends Part {
  wants(event) { return event.type.startsWith('lead.'); }

  render() {
    const pipelines = S.boot.pipelines;
    if (!this.state.pipelineId) this.state.pipelineId = (pipelines.find((p) => p.isDefault) || pipelines[0] || {}).id;
    const pick = h('select', null, options(pipelines.map((p) => [p.id, p.name]), this.state.pipelineId));
    pick.addEventListener('change', () => { this.state.pipelineId = pick.value; this.reload(); });
    this.columns = h('div', { class: 'board' });
    // Where the lifted card is drawn: a sheet of its own, as a strict CSP allows no style attributes.
    this.dragSheet = new CSSStyleSheet();
    this.shadowRoot.adoptedStyleSheets = [sheet, themeSheet, this.dragSheet];
    this.live = h('p', { class: 'sr', 'aria-live': 'assertive' });
    this.helpId = nextId('help');
    this.shadowRoot.replaceChildren(
      h('div', { class: 'bar' }, field(t('pipeline'), pick)),
      h('p', { id: this.helpId, class: 'muted small' }, t('boardHelp')),
      this.statusLine(), this.live, this.columns);
  }

  async reload() {
    if (!this.columns) return;
    // Not under a finger: a redraw would take the lifted card away; it comes when the drag ends.
    if (this.drag) { this.drag.reload = true; return; }
    const stages = stagesOf(this.state.pipelineId);
    try {
      const [totals, ...pages] = await Promise.all([
        gql(Q.BoardTotals, { pipelineId: this.state.pipelineId }),
        ...stages.map((stage) => gql(Q.Inbox, { first: 30, filter: { stageId: stage.id, status: null } })),
      ]);
      if (this.drag) { this.drag.reload = true; return; }
      const byStage = Object.fromEntries(totals.boardTotals.map((x) => [x.stageId, x]));
      // A redraw (a live update, a move) keeps the keyboard on the card it was on.
      const focused = this.shadowRoot.activeElement;
      const keep = this.refocus || (focused && focused.dataset && focused.dataset.lead);
      this.columns.replaceChildren(...stages.map((stage, i) => this.column(stage, pages[i].leads, stages, byStage[stage.id])));
      if (keep) {
        const card = this.columns.querySelector(`[data-lead="${CSS_ESCAPE(keep)}"]`);
        if (card) card.focus();
      }
      this.refocus = null;
    } catch (error) { this.fail(error); }
  }

  column(stage, page, stages, total) {
    const leads = edges(page);
    const sums = total ? total.sums : [];
    const headingId = nextId('col');
    const col = h('section', { class: 'col', 'aria-labelledby': headingId, 'data-stage': stage.id },
      h('h3', { id: headingId }, stage.name, ' ', h('span', { class: 'badge' }, fmtNum(total ? total.count : 0))),
      h('p', { class: 'small muted' }, sums.map((x) => fmtMoney(x.amount, x.currency)).join(' + ') || '—'),
      h('ol', null, leads.map((lead) => {
        // Besides dragging and the arrows, the card's own stage picker moves it.
        const move = h('select', { class: 'small', 'aria-label': `${t('moveTo')}: ${lead.title}`, onclick: (e) => e.stopPropagation(), onkeydown: (e) => e.stopPropagation() },
          options(stages.map((x) => [x.id, x.name]), stage.id));
        move.addEventListener('change', () => { const to = stages.find((x) => x.id === move.value); move.value = stage.id; this.move(lead.id, to); });
        const card = h('li', { tabindex: '0', 'data-lead': lead.id, 'aria-describedby': this.helpId },
          h('strong', { text: lead.title }),
          h('span', { class: 'grip', 'aria-hidden': 'true', text: '⠿' }),
          h('div', { class: 'small muted' }, [lead.contact && lead.contact.name, fmtMoney(lead.value, lead.currency)].filter(Boolean).join(' · ')), move);
        card.addEventListener('pointerdown', (e) => this.lift(e, card, lead, stage, stages));
        card.addEventListener('contextmenu', (e) => { if (e.target.closest('.grip')) e.preventDefault(); });
        card.addEventListener('click', () => { if (!this.dragged) this.openLead(lead.id); });
        card.addEventListener('keydown', (e) => {
          const index = stages.indexOf(stage);
          if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.openLead(lead.id); }
          const to = e.key === 'ArrowRight' ? stages[index + 1] : e.key === 'ArrowLeft' ? stages[index - 1] : null;
          if (to) { e.preventDefault(); this.move(lead.id, to); }
        });
        return card;
      })));
    return col;
  }

  // One path for mouse, finger and pen (HTML5 drag and drop has no touch). A mouse lifts the card
  // anywhere, a finger or pen by its grip only, so that a swipe elsewhere still scrolls the board
  // and the page; a few pixels of movement tell a drag from a click or a tap.
  lift(e, card, lead, from, stages) {
    this.dragged = false;
    if (this.drag || !e.isPrimary || e.button !== 0 || e.target.closest('select')) return;
    if (e.pointerType !== 'mouse' && !e.target.closest('.grip')) return;
    const box = card.getBoundingClientRect();
    const d = this.drag = { x: e.clientX, y: e.clientY, dx: e.clientX - box.left, dy: e.clientY - box.top, on: false, over: null, ghost: null, frame: 0 };
    const board = this.columns;
    const draw = () => {
      this.dragSheet.replaceSync(`.ghost{width:${box.width}px;translate:${d.x - d.dx}px ${d.y - d.dy}px}`);
      const r = board.getBoundingClientRect();
      const inside = d.x >= r.left && d.x < r.right && d.y >= r.top && d.y < r.bottom;
      const over = inside ? [...board.children].find((col) => { const c = col.getBoundingClientRect(); return d.x >= c.left && d.x < c.right; }) || null : null;
      if (over !== d.over) { if (d.over) d.over.classList.remove('over'); if (over) over.classList.add('over'); d.over = over; }
    };
    // Near the board's left or right edge it scrolls that way, faster the closer the pointer.
    const tick = () => {
      const r = board.getBoundingClientRect(), edge = Math.min(56, r.width / 5);
      const push = d.x < r.left + edge ? d.x - r.left - edge : d.x > r.right - edge ? d.x - r.right + edge : 0;
      if (push && d.y >= r.top && d.y < r.bottom) { board.scrollLeft += Math.max(-1, Math.min(1, push / edge)) * 14; draw(); }
      d.frame = requestAnimationFrame(tick);
    };
    const follow = (ev) => {
      d.x = ev.clientX; d.y = ev.clientY;
      if (!d.on) {
        if (Math.hypot(d.x - e.clientX, d.y - e.clientY) < 8) return;
        d.on = this.dragged = true;
        d.ghost = card.cloneNode(true);
        d.ghost.className = 'ghost';
        for (const name of ['tabindex', 'data-lead', 'aria-describedby']) d.ghost.removeAttribute(name);
        d.ghost.setAttribute('aria-hidden', 'true');
        d.ghost.querySelector('select').remove();
        this.shadowRoot.append(d.ghost);
        card.classList.add('lifted');
        board.classList.add('dragging');
        d.frame = requestAnimationFrame(tick);
      }
      ev.preventDefault();
      draw();
    };
    const end = () => {
      for (const [type, fn] of listeners) (type === 'keydown' ? document : card).removeEventListener(type, fn, true);
      cancelAnimationFrame(d.frame);
      if (d.ghost) d.ghost.remove();
      if (d.over) d.over.classList.remove('over');
      card.classList.remove('lifted');
      board.classList.remove('dragging');
      this.dragSheet.replaceSync('');
      if (card.hasPointerCapture(e.pointerId)) card.releasePointerCapture(e.pointerId);
      this.drag = null;
    };
    const drop = (ev) => {
      if (d.on) follow(ev);
      const to = d.on && d.over && stages.find((x) => x.id === d.over.dataset.stage);
      end();
      if (to && to !== from) this.move(lead.id, to);
      else if (d.reload) this.reload();
    };
    const cancel = () => { end(); if (d.reload) this.reload(); };
    const listeners = [['pointermove', follow], ['pointerup', drop], ['pointercancel', cancel], ['lostpointercapture', cancel],
      ['keydown', (ev) => { if (ev.key === 'Escape' && d.on) { ev.preventDefault(); ev.stopPropagation(); cancel(); } }]];
    for (const [type, fn] of listeners) (type === 'keydown' ? document : card).addEventListener(type, fn, true);
    card.setPointerCapture(e.pointerId);
  }

  move(leadId, stage) {
    return this.act(async () => {
      if (!(await moveLead(this.shadowRoot, leadId, stage))) return;
      this.live.textContent = `${t('moved')}: ${stage.name}`;
      this.refocus = leadId;
      await this.reload();
    });
  }
}
const CSS_ESCAPE = (v) => (window.CSS && CSS.escape ? CSS.escape(v) : v.replace(/["\\]/g, '\\$&'));

// ---------------------------------------------------------------- <embedcrm-tasks>
class Tasks extends Part {
  constructor() { super(); this.state = { view: '' }; }
  wants(event) { return event.type.startsWith('task.'); }

  render() {
    // An owner starts from every open task; a manager from their own.
    if (!this.state.view) this.state.view = isOwner() ? 'all' : 'mine';
    const view = h('select', null, options([['mine', t('mine')], ['overdue', t('overdue')], ['all', t('allTasks')],
      ...S.boot.members.map((m) => [m.id, m.name || m.id])], this.state.view));
    view.addEventListener('change', () => { this.state.view = view.value; this.reload(); });
    const title = h('input', { type: 'text', required: true, maxlength: '500' });
    const due = h('input', { type: 'datetime-local', required: true });
    this.list = h('ul', { class: 'timeline', 'aria-label': t('tasks') });
    this.shadowRoot.replaceChildren(
      h('div', { class: 'bar' }, field(t('tasks'), view)),
      h('form', { class: 'bar', onsubmit: (e) => { e.preventDefault(); this.act(async () => {
        await mutate('CreateTask', { title: title.value, dueAt: localToIso(due.value) });
        title.value = ''; await this.reload();
      }); } }, field(t('task'), title, 'grow'), field(t('due'), due), h('button', { class: 'primary' }, t('addTask'))),
      this.statusLine(), this.list);
  }

  async reload() {
    if (!this.list) return;
    const v = this.state.view;
    const filter = v === 'mine' ? { mine: true } : v === 'overdue' ? { overdue: true } : v === 'all' ? {} : { assigneeId: v };
    try {
      const data = await gql(Q.Tasks, { filter });
      const tasks = edges(data.tasks);
      this.list.replaceChildren(...tasks.map((task) => {
        const row = taskRow(this, task);
        if (task.leadId) row.append(' ', h('button', { type: 'button', class: 'link small', onclick: () => this.openLead(task.leadId) }, t('openLead')));
        return row;
      }));
      if (!tasks.length) this.list.append(h('li', { class: 'muted' }, t('none')));
    } catch (error) { this.fail(error); }
  }
}

// ---------------------------------------------------------------- <embedcrm-contacts>
class Contacts extends Part {
  constructor() { super(); this.state = { search: '', tag: '', manager: '' }; this.rows = []; }
  wants(event) { return event.type.startsWith('contact.'); }

  filter() {
    const f = {};
    if (this.state.search.trim()) f.search = this.state.search.trim();
    if (this.state.tag) f.tags = [this.state.tag];
    if (this.state.manager === '-') f.unmanaged = true; else if (this.state.manager) f.managerId = this.state.manager;
    return f;
  }

  render() {
    const search = h('input', { type: 'search', value: this.state.search, placeholder: t('searchHint') });
    search.addEventListener('input', () => { this.state.search = search.value; clearTimeout(this.typing); this.typing = setTimeout(() => this.reload(), 80); });
    const manager = h('select', null, options([['', t('anyManager')], ['-', t('unassigned')], ...S.boot.members.map((m) => [m.id, m.name || m.id])], this.state.manager));
    manager.addEventListener('change', () => { this.state.manager = manager.value; this.reload(); });
    const tag = h('select', null, options([['', t('anyTag')], ...S.boot.tags.map((x) => [x.name, x.name])], this.state.tag));
    tag.addEventListener('change', () => { this.state.tag = tag.value; this.reload(); });
    this.body = h('tbody');
    this.more = h('button', { type: 'button', onclick: () => this.reload(true) }, t('more'));
    this.shadowRoot.replaceChildren(
      h('div', { class: 'bar', role: 'search' }, field(t('search'), search, 'grow'), field(t('personalManager'), manager), field(t('tag'), tag),
        h('button', { type: 'button', onclick: () => this.act(async () => {
          const data = await gql(Q.ContactsCsv, { filter: this.filter() });
          download('contacts.csv', data.contactsCsv.csv, 'text/csv;charset=utf-8');
        }) }, t('exportCsv'))),
      this.statusLine(),
      h('div', { class: 'scroll' }, h('table', { 'aria-label': t('contacts') },
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('contact')), h('th', { scope: 'col' }, t('leadsOf')),
          h('th', { scope: 'col', class: 'hide-narrow' }, t('personalManager')), h('th', { scope: 'col', class: 'hide-narrow' }, t('created')),
          isOwner() ? h('th', { scope: 'col' }, h('span', { class: 'sr' }, t('exportData'))) : null)),
        this.body)),
      this.more);
  }

  async reload(more = false) {
    if (!this.body) return;
    try {
      const data = await gql(Q.Contacts, { first: 50, after: more ? this.cursor : null, filter: this.filter() });
      const rows = edges(data.contacts);
      this.cursor = data.contacts.pageInfo.endCursor;
      if (!more) this.body.replaceChildren();
      this.body.append(...rows.map((c) => h('tr', null,
        h('td', null, h('strong', { text: c.name || c.email || c.phone || '—' }), h('div', { class: 'small muted' }, [c.phone, c.email, c.company].filter(Boolean).join(' · '))),
        h('td', null, edges(c.leads).map((l) => h('div', null, h('button', { type: 'button', class: 'link', onclick: () => this.openLead(l.id) }, l.title), ' ', h('span', { class: 'badge' }, l.stage ? l.stage.name : '')))),
        h('td', { class: 'hide-narrow' }, c.manager ? c.manager.name : '—'),
        h('td', { class: 'hide-narrow' }, fmtDate(c.createdAt, false)),
        isOwner() ? h('td', null,
          h('button', { type: 'button', class: 'link small', onclick: () => this.act(async () => {
            const d = await gql(Q.PersonalData, { contactId: c.id });
            download('personal-data.json', JSON.stringify(d.personalData, null, 2), 'application/json');
          }) }, t('exportData')), ' ',
          h('button', { type: 'button', class: 'link small err', onclick: () => this.act(async () => {
            if (!confirm(t('eraseConfirm'))) return;
            await mutate('Erase', { contactId: c.id });
            await this.reload();
          }) }, t('erase'))) : null)));
      if (!this.body.children.length) this.body.append(h('tr', null, h('td', { colspan: '5', class: 'muted' }, t('none'))));
      this.more.hidden = !data.contacts.pageInfo.hasNextPage;
    } catch (error) { this.fail(error); }
  }
}

// ---------------------------------------------------------------- <embedcrm-reports>
class Reports extends Part {
  constructor() { super(); this.state = { days: '30', touch: 'LAST', feedback: 'NPS' }; }

  render() {
    const period = h('select', null, options([['7', t('days7')], ['30', t('days30')], ['90', t('days90')], ['365', t('days365')]], this.state.days));
    period.addEventListener('change', () => { this.state.days = period.value; this.reload(); });
    const touch = h('select', null, options([['LAST', t('lastTouch')], ['FIRST', t('firstTouch')]], this.state.touch));
    touch.addEventListener('change', () => { this.state.touch = touch.value; this.reload(); });
    const feedback = h('select', null, options([['NPS', t('NPS')], ['CSAT', t('CSAT')]], this.state.feedback));
    feedback.addEventListener('change', () => { this.state.feedback = feedback.value; this.reload(); });
    this.charts = h('div', { class: 'grid charts' });
    this.spendForm = this.spendEntry();
    this.shadowRoot.replaceChildren(h('div', { class: 'bar' }, field(t('period'), period), field(t('sources'), touch), field(t('feedbackReport'), feedback)), this.statusLine(), this.charts, this.spendForm);
  }

  async reload() {
    if (!this.charts) return;
    const to = new Date();
    const from = new Date(to.getTime() - Number(this.state.days) * 86400000);
    const interval = this.state.days === '365' ? 'MONTH' : this.state.days === '90' ? 'WEEK' : 'DAY';
    try {
      const [data, money, feedback, sales] = await Promise.all([
        gql(Q.Reports, { filter: { from: from.toISOString(), to: to.toISOString() }, touch: this.state.touch, interval }),
        // Money reports need the reports' money fields; without them the rest still shows.
        gql(Q.Money, { starts: from.toISOString(), ends: to.toISOString() }).catch(() => null),
        gql(Q.Feedback, { kind: this.state.feedback, from: from.toISOString(), to: to.toISOString() }).catch(() => null),
        gql(Q.Sales, { starts: from.toISOString(), ends: to.toISOString() }).catch(() => null)]);
      this.paint(data.analytics);
      if (money) this.charts.append(...this.moneyCharts(money));
      if (sales) this.charts.append(...this.salesCharts(sales));
      if (feedback) this.charts.append(...this.feedbackCharts(feedback.feedbackReport, this.state.feedback));
    } catch (error) { this.fail(error); }
  }

  paint(a) {
    const stages = a.funnel.stages;
    const sources = a.sources.slice(0, 10);
    const sourceName = (r) => [r.source || t('direct'), r.medium].filter(Boolean).join(' / ');
    // Reports may be read from a replica (docs/operations.md): when it is noticeably behind the
    // primary, say so above them, since the newest leads are then missing from the numbers.
    const behind = a.lagSeconds >= LAG_SHOWN_SECONDS
      ? [h('p', { class: 'muted', role: 'status', text: `${t('behind')} ${fmtLag(a.lagSeconds)}` })] : [];
    this.charts.replaceChildren(...behind,
      chartFrame(t('funnel'), barChart(t('funnel'), stages, (x) => x.reached, (x) => x.name, (x) => `${fmtNum(x.reached)} · ${fmtDuration(x.medianSecondsInStage)} ${t('inStage')}`),
        table([[t('stage')], [t('reached'), 1], [t('winRate'), 1], [t('inStage'), 1]], stages.map((x) => [x.name, fmtNum(x.reached), fmtPct(x.conversionToNext), fmtDuration(x.medianSecondsInStage)]))),
      chartFrame(t('sources'), barChart(t('sources'), sources, (x) => x.leads, sourceName),
        table([[t('source')], [t('count'), 1], [t('won'), 1], [t('revenue'), 1]], sources.map((x) => [sourceName(x), fmtNum(x.leads), fmtNum(x.won), fmtMoney(x.revenue)]))),
      chartFrame(t('series'), columnChart(t('series'), a.timeSeries),
        table([[t('period')], [t('count'), 1], [t('won'), 1], [t('revenue'), 1]], a.timeSeries.map((p) => [fmtDate(p.startsAt, false), fmtNum(p.leads), fmtNum(p.won), fmtMoney(p.revenue)]))),
      chartFrame(t('spend'), barChart(t('spend'), a.spend, (x) => Number(x.spend), (x) => x.source || '—', (x) => `${fmtMoney(x.spend)} · ROI ${fmtPct(x.roi)}`),
        table([[t('source')], [t('amount'), 1], [t('count'), 1], [t('cpl'), 1], [t('roi'), 1], [t('payback'), 1]], a.spend.map((x) => [[x.source, x.campaign].filter(Boolean).join(' / '), fmtMoney(x.spend), fmtNum(x.leads), fmtMoney(x.costPerLead), fmtPct(x.roi), fmtNum(x.payback, 2)]))),
      chartFrame(t('managersReport'), barChart(t('managersReport'), a.managers, (x) => x.leads, (x) => (x.member ? x.member.name : t('unassigned')), (x) => `${fmtNum(x.leads)} · ${fmtPct(x.winRate)}`),
        table([[t('manager')], [t('count'), 1], [t('won'), 1], [t('winRate'), 1], [t('revenue'), 1], [t('overdue'), 1]], a.managers.map((x) => [x.member ? x.member.name : t('unassigned'), fmtNum(x.leads), fmtNum(x.won), fmtPct(x.winRate), fmtMoney(x.revenue), fmtNum(x.overdueTasks)]))),
      chartFrame(t('forecast'), barChart(t('forecast'), a.forecast.months, (x) => Number(x.weightedValue), (x) => fmtDate(x.month, false), (x) => fmtMoney(x.weightedValue)),
        table([[t('month')], [t('count'), 1], [t('value'), 1], [t('weighted'), 1]], [...a.forecast.months.map((x) => [fmtDate(x.month, false), fmtNum(x.leads), fmtMoney(x.value), fmtMoney(x.weightedValue)]), [t('undated'), fmtNum(a.forecast.undated.leads), fmtMoney(a.forecast.undated.value), fmtMoney(a.forecast.undated.weightedValue)]])),
      chartFrame(t('forms'), barChart(t('forms'), a.forms, (x) => x.submissions, (x) => x.form),
        table([[t('forms')], [t('views'), 1], [t('starts'), 1], [t('submissions'), 1]], a.forms.map((x) => [x.form, fmtNum(x.views), fmtNum(x.starts), fmtNum(x.submissions)]))),
      h('div', { class: 'card' }, h('h3', { text: t('profitability') }), h('dl', null,
        [[t('won'), fmtNum(a.profitability.won)], [t('revenue'), fmtMoney(a.profitability.revenue)], [t('grossProfit'), fmtMoney(a.profitability.grossProfit)], [t('margin'), fmtPct(a.profitability.margin)]]
          .map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]))));
  }

  moneyCharts({ receivables, revenue }) {
    const rows = receivables.rows.slice(0, 10);
    const sums = [...revenue.byPaidDate.map((x) => ['paid', x]), ...revenue.byWonDate.map((x) => ['won', x])];
    // Short enough for the chart's label column (16 characters).
    const label = ([kind, x]) => [t(kind === 'paid' ? 'paid' : 'wonLeads'), x.currency].filter(Boolean).join(' · ');
    return [
      chartFrame(t('receivables'), barChart(t('receivables'), rows, (x) => Number(x.outstanding), (x) => x.buyerName || '—', (x) => `${fmtMoney(x.outstanding, x.currency)} · ${fmtMoney(x.overdue, x.currency)} ${t('overdue').toLowerCase()}`),
        table([[t('buyer')], [t('invoices'), 1], [t('outstanding'), 1], [t('overdue'), 1], [t('daysLate'), 1]],
          receivables.rows.map((x) => [x.buyerName, fmtNum(x.invoices), fmtMoney(x.outstanding, x.currency), fmtMoney(x.overdue, x.currency), fmtNum(x.daysLate)]))),
      chartFrame(t('byPaid'), barChart(t('byPaid'), sums, ([, x]) => Number(x.amount), label, ([, x]) => fmtMoney(x.amount, x.currency)),
        table([[t('revenue')], [t('amount'), 1]], sums.map((r) => [label(r), fmtMoney(r[1].amount, r[1].currency)]))),
    ];
  }

  // A manager's commission is their own: the API answers them with their row alone.
  salesCharts({ salesByProduct, accruedCommission, workload }) {
    const products = salesByProduct.rows;
    const who = (x) => x.name || t('unassigned');
    return [
      chartFrame(t('salesByProduct'), barChart(t('salesByProduct'), products.slice(0, 10), (x) => Number(x.revenue), (x) => x.name, (x) => `${fmtMoney(x.revenue, x.currency)} · ${fmtNum(Number(x.quantity), 3)}`),
        table([[t('product')], [t('sku')], [t('qty'), 1], [t('revenue'), 1], [t('cost'), 1], [t('margin'), 1], [t('count'), 1]],
          products.map((x) => [x.name, x.sku || '', fmtNum(Number(x.quantity), 3), fmtMoney(x.revenue, x.currency), fmtMoney(x.cost, x.currency), x.margin == null ? '—' : fmtMoney(x.margin, x.currency), fmtNum(x.leads)]))),
      chartFrame(t('commission'), barChart(t('commission'), accruedCommission, (x) => Number(x.commission), who, (x) => fmtMoney(x.commission)),
        table([[t('manager')], [t('payments'), 1], [t('paid'), 1], [t('margin'), 1], [t('commission'), 1]],
          accruedCommission.map((x) => [who(x), fmtNum(x.payments), fmtMoney(x.paid), fmtMoney(x.margin), fmtMoney(x.commission)]))),
      chartFrame(t('workload'), barChart(t('workload'), workload, (x) => x.openLeads, who, (x) => `${fmtNum(x.openLeads)} · ${fmtNum(x.openTasks)} / ${fmtNum(x.overdueTasks)}`),
        table([[t('manager')], [t('openLeads'), 1], [t('openTasks'), 1], [t('overdue'), 1]],
          workload.map((x) => [who(x), fmtNum(x.openLeads), fmtNum(x.openTasks), fmtNum(x.overdueTasks)]))),
    ];
  }

  // NPS is shown as its score (-100…100), CSAT as its average (1…5); bars below zero stay a sliver.
  feedbackCharts(r, kind) {
    const score = (x) => (kind === 'NPS' ? x.nps : x.average);
    const shown = (x) => fmtNum(score(x), 2);
    const month = (x) => new Intl.DateTimeFormat(S.locale, { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(x.key + '-01T00:00:00Z'));
    const manager = (x) => (x.key ? (S.boot.members.find((m) => m.id === x.key) || {}).name || '—' : t('unassigned'));
    const source = (x) => x.key || t('direct');
    const title = `${t('feedbackReport')}: ${t(kind)}`;
    // Named apart from the other reports' charts ("Sources", "Managers"), which hosts find by name.
    const breakdown = (by, column, rows, name) => chartFrame(`${title} ${t(by)}`, barChart(`${title} ${t(by)}`, rows, (x) => Math.max(0, score(x) || 0), name, (x) => `${shown(x)} · ${fmtNum(x.count)}`),
      table([[t(column)], [t(kind === 'NPS' ? 'NPS' : 'average'), 1], [t('answers'), 1]], rows.map((x) => [name(x), shown(x), fmtNum(x.count)])));
    return [
      h('div', { class: 'card' }, h('h3', { text: title }), h('dl', null,
        [kind === 'NPS' ? [t('NPS'), shown(r.overall)] : null, [t('average'), fmtNum(r.overall.average, 2)], [t('answers'), fmtNum(r.overall.count)]].filter(Boolean)
          .map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])),
        h('h4', { text: t('comments') }),
        r.comments.length ? h('ul', null, r.comments.slice(0, 10).map((c) => h('li', null, `${t('score')}: ${c.score} — ${c.comment}`, h('span', { class: 'muted small' }, ` · ${[c.source, fmtDate(c.createdAt)].filter(Boolean).join(' · ')}`)))) : h('p', { class: 'muted' }, t('empty'))),
      breakdown('byMonth', 'month', r.byMonth, month),
      breakdown('byManager', 'manager', r.byManager, manager),
      breakdown('bySource', 'source', r.bySource, source),
    ];
  }

  spendEntry() {
    const today = new Date().toISOString().slice(0, 10);
    const source = h('input', { type: 'text', required: true, size: '10' });
    const campaign = h('input', { type: 'text', size: '10' });
    const starts = h('input', { type: 'date', required: true, value: today });
    const ends = h('input', { type: 'date', required: true, value: today });
    const amount = h('input', { type: 'number', required: true, min: '0', step: '0.01' });
    const file = h('input', { type: 'file', accept: '.csv,text/csv' });
    file.addEventListener('change', () => this.act(async () => {
      if (!file.files[0]) return;
      await mutate('ImportSpend', { csv: await file.files[0].text() });
      file.value = ''; await this.reload();
    }));
    return h('form', { class: 'card', onsubmit: (e) => { e.preventDefault(); this.act(async () => {
      await mutate('RecordSpend', { source: source.value, campaign: campaign.value || null, startsOn: starts.value, endsOn: ends.value, amount: amount.value });
      amount.value = ''; await this.reload();
    }); } }, h('h3', { text: t('addSpend') }),
    h('div', { class: 'bar' }, field(t('source'), source), field(t('campaign'), campaign), field(t('startsOn'), starts), field(t('endsOn'), ends), field(t('amount'), amount),
      h('button', { class: 'primary' }, t('add')), field(t('importCsv'), file)));
  }
}

// ---------------------------------------------------------------- <embedcrm-settings>
class Settings extends Part {
  render() {
    this.area = h('div');
    this.shadowRoot.replaceChildren(this.statusLine(), this.area);
  }

  async reload() {
    if (!this.area) return;
    try {
      // Every member sets their own alerts; the rest is the owner's.
      const alerts = this.alertsCard((await gql(Q.Alerts)).alertSettings);
      if (!isOwner()) { this.area.replaceChildren(h('div', { class: 'grid' }, alerts)); return; }
      const [boot, data, templates] = await Promise.all([gql(Q.Boot), gql(Q.Settings), gql(Q.Templates)]);
      S.boot = boot;
      const forms = await Promise.all(boot.sites.map((site) => gql(Q.SiteForms, { siteId: site.id }).then((d) => [site, d.siteForms])));
      this.area.replaceChildren(
        h('div', { class: 'grid' },
          this.templatesCard(edges(templates.messageTemplates), templates.messageVariables, data.customFields),
          alerts,
          ...boot.pipelines.map((p) => this.pipelineCard(p)),
          this.fieldsCard(data.customFields),
          h('div', { class: 'card' }, h('h3', { text: t('tags') }), boot.tags.length ? h('ul', null, boot.tags.map((tag) => h('li', null, tag.name, ' ',
            h('button', { type: 'button', class: 'link small', 'aria-label': `${t('delete')}: ${tag.name}`, onclick: () => this.act(async () => { await mutate('DeleteTag', { id: tag.id }); await this.reload(); }) }, t('delete'))))) : h('p', { class: 'muted' }, t('empty'))),
          this.rulesCard(data.assignmentRules, boot),
          this.formsCard(forms)));
    } catch (error) { this.fail(error); }
  }

  // The rules are replaced whole: each change sends the list as it now stands.
  rulesCard(rules, boot) {
    const save = (list) => this.act(async () => {
      await mutate('SetRules', { workspaceId: boot.workspace.id, rules: list.map(({ kind, siteId, utmSource, memberId }) => ({ kind, siteId, utmSource, memberId })) });
      await this.reload();
      this.status.textContent = t('saved');
    });
    const name = (id, list) => (list.find((x) => x.id === id) || {}).name || '—';
    const describe = (r) => `${t(r.kind)}${r.utmSource ? ' · ' + r.utmSource : ''}${r.siteId ? ' · ' + name(r.siteId, boot.sites) : ''}${r.memberId ? ' → ' + name(r.memberId, boot.members) : ''}`;
    const kind = h('select', null, options(['BY_SITE', 'BY_SOURCE', 'ROUND_ROBIN'].map((k) => [k, t(k)])));
    const site = h('select', null, options(boot.sites.map((x) => [x.id, x.name])));
    const source = h('input', { type: 'text', maxlength: '200', size: '10' });
    const member = h('select', null, options(boot.members.map((m) => [m.id, m.name || m.id])));
    const parts = showWhen(kind, [[field(t('site'), site), (k) => k === 'BY_SITE'], [field('utm_source', source), (k) => k === 'BY_SOURCE'], [field(t('members'), member), (k) => k !== 'ROUND_ROBIN']]);
    return h('div', { class: 'card' }, h('h3', { text: t('rules') }),
      rules.length ? h('ol', null, rules.map((r, i) => h('li', null, describe(r), ' ',
        i ? h('button', { type: 'button', class: 'link small', 'aria-label': `${t('up')}: ${describe(r)}`, onclick: () => save([...rules.slice(0, i - 1), r, rules[i - 1], ...rules.slice(i + 1)]) }, '↑') : null, ' ',
        h('button', { type: 'button', class: 'link small', 'aria-label': `${t('delete')}: ${describe(r)}`, onclick: () => save(rules.filter((x) => x !== r)) }, t('delete'))))) : h('p', { class: 'muted' }, t('empty')),
      h('form', { class: 'bar', onsubmit: (e) => { e.preventDefault(); const k = kind.value;
        save([...rules, { kind: k, siteId: k === 'BY_SITE' ? site.value : null, utmSource: k === 'BY_SOURCE' ? source.value.trim() : null, memberId: k === 'ROUND_ROBIN' ? null : member.value }]); } },
      field(t('rule'), kind), parts, h('button', { class: 'primary' }, t('addRule'))));
  }

  formsCard(forms) {
    return h('div', { class: 'card' }, h('h3', { text: t('siteForms') }), forms.map(([site, list]) => h('div', null, h('h4', { text: site.name }),
      list.length ? h('ul', null, list.map((f) => h('li', null, `${f.key} (${t(f.display)})`, ' ',
        h('button', { type: 'button', class: 'link small', 'aria-label': `${t('edit')}: ${f.key}`, onclick: () => this.editForm(site, f) }, t('edit')), ' ',
        h('button', { type: 'button', class: 'link small err', 'aria-label': `${t('delete')}: ${f.key}`, onclick: () => this.act(async () => { await mutate('DeleteForm', { siteId: site.id, key: f.key }); await this.reload(); }) }, t('delete'))))) : h('p', { class: 'muted small' }, t('empty')),
      h('button', { type: 'button', onclick: () => this.editForm(site, null) }, `${t('newForm')}: ${site.name}`))));
  }

  // A form's editor: texts are edited in the panel's language, the other language is kept.
  editForm(site, form) {
    const loc = (text) => (text && text[S.locale]) || '';
    const keep = (text, value) => ({ ru: (text && text.ru) || null, en: (text && text.en) || null, [S.locale]: value.trim() || null });
    const f = form || { key: '', display: 'INLINE', fields: [{ name: 'name', type: 'TEXT', required: false, label: {}, options: [] }, { name: 'phone', type: 'TEL', required: true, label: {}, options: [] }] };
    const key = h('input', { type: 'text', required: true, maxlength: '100', value: f.key, readonly: !!form });
    const display = h('select', null, options(['INLINE', 'POPUP', 'FLOATING'].map((x) => [x, t(x)]), f.display));
    const texts = [['formTitle', 'title'], ['buttonLabel', 'buttonLabel'], ['successMessage', 'successMessage'], ['consent', 'consentText']]
      .map(([label, prop]) => [prop, h('input', { type: 'text', maxlength: '500', value: loc(f[prop]) }), label]);
    const rows = h('tbody');
    const addRow = (x) => {
      const n = rows.children.length + 1;
      const name = h('input', { type: 'text', required: true, maxlength: '64', size: '10', value: x.name, 'aria-label': `${t('fieldName')} ${n}` });
      const type = h('select', { 'aria-label': `${t('fieldType')} ${n}` }, options(['TEXT', 'TEXTAREA', 'EMAIL', 'TEL', 'NUMBER', 'DATE', 'CHECKBOX', 'SELECT'].map((v) => [v, v.toLowerCase()]), x.type));
      const label = h('input', { type: 'text', maxlength: '200', size: '12', value: loc(x.label), 'aria-label': `${t('fieldLabel')} ${n}` });
      const required = h('input', { type: 'checkbox', checked: x.required, 'aria-label': `${t('required')} ${n}` });
      const row = h('tr', null, h('td', null, name), h('td', null, type), h('td', null, label), h('td', null, required),
        h('td', null, h('button', { type: 'button', class: 'link small err', 'aria-label': `${t('removeField')} ${n}`, onclick: () => row.remove() }, '×')));
      row.read = () => ({ name: name.value.trim(), type: type.value, required: required.checked, label: keep(x.label, label.value),
        options: x.options.length ? x.options.map((o) => ({ value: o.value, label: o.label })) : null });
      rows.append(row);
    };
    f.fields.forEach(addRow);
    this.editor(`${t('formOf')}: ${site.name}`, () => mutate('SaveForm', {
      siteId: site.id, key: key.value.trim(), display: display.value, fields: [...rows.children].map((r) => r.read()),
      ...Object.fromEntries(texts.map(([prop, input]) => [prop, keep(f[prop], input.value)])),
    }),
    h('div', { class: 'bar' }, field(t('formKey'), key), field(t('display'), display), texts.map(([, input, label]) => field(t(label), input))),
    h('div', { class: 'scroll' }, h('table', null, h('thead', null, h('tr', null, [t('fieldName'), t('fieldType'), t('fieldLabel'), t('required'), t('delete')].map((x) => h('th', { scope: 'col' }, x)))), rows)),
    h('div', { class: 'bar' }, h('button', { type: 'button', onclick: () => addRow({ name: '', type: 'TEXT', required: false, label: {}, options: [] }) }, t('addField')),
      h('button', { class: 'primary' }, t('save'))));
  }

  // A modal editor: submitting runs save; an error stays in the dialog, success closes it.
  editor(label, save, ...kids) {
    const dialog = h('dialog', { 'aria-label': label });
    const status = h('p', { class: 'err small', role: 'status' });
    dialog.append(h('div', { class: 'dialog-head' }, h('button', { type: 'button', onclick: () => dialog.close() }, t('close'))),
      h('form', { class: 'dialog-body', onsubmit: (e) => { e.preventDefault(); save().then(() => { dialog.close(); this.status.textContent = t('saved'); }, (error) => { status.textContent = error.message; }); } },
        h('h3', { text: label }), status, kids));
    dialog.addEventListener('close', () => { dialog.remove(); this.reload(); });
    this.shadowRoot.append(dialog);
    dialog.showModal();
  }

  templatesCard(templates, variables, fields) {
    const stageName = (id) => (allStages().find((x) => x.id === id) || {}).name || '—';
    const when = (x) => ({ STAGE: `${t('STAGE')}: ${stageName(x.stageId)}`, REMINDER: `${t('REMINDER')}: ${new Intl.NumberFormat(S.locale, { style: 'unit', unit: 'hour', unitDisplay: 'short' }).format(x.hoursBefore)}`, DATE: `${t('DATE')}: ${x.fieldKey}` })[x.trigger] || t(x.trigger);
    return h('div', { class: 'card wide' }, h('h3', { text: t('templates') }),
      templates.length ? h('ul', null, templates.map((x) => h('li', null, [x.name, t(x.channel), x.language, when(x), x.active ? null : t('inactive')].filter(Boolean).join(' · '), ' ',
        h('button', { type: 'button', class: 'link small', 'aria-label': `${t('edit')}: ${x.name}`, onclick: () => this.editTemplate(x, variables, fields) }, t('edit'))))) : h('p', { class: 'muted' }, t('empty')),
      h('button', { type: 'button', onclick: () => this.editTemplate(null, variables, fields) }, t('newTemplate')));
  }

  // A template and its trigger; a saved one is previewed as it would go to a chosen client.
  editTemplate(template, variables, fields) {
    const x = template || { name: '', channel: 'EMAIL', language: S.locale, subject: '', body: '', trigger: 'MANUAL', hoursBefore: 24, active: true };
    const name = h('input', { type: 'text', required: true, maxlength: '200', value: x.name });
    const channel = h('select', null, options(['EMAIL', 'SMS', 'TELEGRAM'].map((c) => [c, t(c)]), x.channel));
    const language = h('select', null, options([['ru', 'Русский'], ['en', 'English']], x.language));
    const subject = h('input', { type: 'text', maxlength: '300', value: x.subject });
    const body = h('textarea', { required: true, rows: '6', value: x.body });
    const trigger = h('select', null, options(['MANUAL', 'STAGE', 'REMINDER', 'DATE', 'HOLIDAY'].map((k) => [k, t(k)]), x.trigger));
    const stage = h('select', null, options(allStages().map((st) => [st.id, st.name]), x.stageId));
    const hours = h('input', { type: 'number', min: '1', max: '720', value: String(x.hoursBefore || 24) });
    const dateField = h('select', null, options(fields.filter((f) => f.entity === 'CONTACT' && f.type === 'DATE').map((f) => [f.key, f.label]), x.fieldKey));
    const quietFrom = h('input', { type: 'time', value: x.quietFrom || '' });
    const quietTo = h('input', { type: 'time', value: x.quietTo || '' });
    const active = h('input', { type: 'checkbox', checked: x.active });
    const insert = (v) => { body.setRangeText(`{{${v}}}`, body.selectionStart, body.selectionEnd, 'end'); body.focus(); };
    const save = () => {
      const k = trigger.value;
      const input = { name: name.value.trim(), channel: channel.value, language: language.value, subject: subject.value, body: body.value, trigger: k,
        stageId: k === 'STAGE' ? stage.value : null, hoursBefore: k === 'REMINDER' ? Number(hours.value) : null, fieldKey: k === 'DATE' ? dateField.value : null,
        quietFrom: quietFrom.value || null, quietTo: quietTo.value || null, active: active.checked };
      return template ? mutate('UpdateTemplate', { id: template.id, ...input }) : mutate('CreateTemplate', input);
    };
    this.editor(`${t('templateOf')}: ${x.name || t('newTemplate')}`, save,
      h('div', { class: 'bar' }, field(t('name'), name), field(t('channel'), channel), field(t('language'), language), field(t('subject'), subject, 'grow')),
      field(t('body'), body, 'full'),
      h('details', null, h('summary', { text: t('variables') }), h('ul', { class: 'small' }, variables.map((v) => h('li', null,
        h('button', { type: 'button', class: 'link', 'aria-label': `${t('insert')}: {{${v.name}}}`, onclick: () => insert(v.name) }, `{{${v.name}}}`), ' — ', v.description)))),
      h('div', { class: 'bar' }, field(t('trigger'), trigger), showWhen(trigger, [[field(t('stage'), stage), (k) => k === 'STAGE'], [field(t('hoursBefore'), hours), (k) => k === 'REMINDER'], [field(t('dateField'), dateField), (k) => k === 'DATE']]),
        field(t('quietFrom'), quietFrom), field(t('quietTo'), quietTo), h('label', null, active, ' ', t('active'))),
      template ? this.previewer(template) : null,
      h('div', { class: 'bar' }, h('button', { class: 'primary' }, t('save'))));
  }

  previewer(template) {
    const search = h('input', { type: 'search', autocomplete: 'off', placeholder: t('searchHint') });
    const who = h('select');
    const shown = h('div', { class: 'card', 'aria-live': 'polite' });
    const find = () => gql(Q.PreviewFor, { search: search.value.trim() }).then((data) => {
      who.replaceChildren(...options(edges(data.contacts).flatMap((c) => [[c.id, c.name || '—'], ...edges(c.leads).map((l) => [`${c.id} ${l.id}`, `${c.name || '—'} · ${l.title}`])])));
    }, (error) => { shown.textContent = error.message; });
    search.addEventListener('change', find);
    find();
    const show = () => {
      const [contactId, leadId] = who.value.split(' ');
      if (!contactId) return;
      gql(Q.Preview, { templateId: template.id, contactId, leadId: leadId || null }).then(({ previewMessage: m }) => {
        shown.replaceChildren(h('p', { class: 'muted small', text: `${t('recipient')}: ${m.recipient || t('noAddress')}` }), m.subject ? h('h4', { text: m.subject }) : null, h('p', { class: 'pre', text: m.body }));
      }, (error) => { shown.textContent = error.message; });
    };
    return h('fieldset', null, h('legend', { text: t('preview') }),
      h('div', { class: 'bar' }, field(t('search'), search), field(t('previewFor'), who), h('button', { type: 'button', onclick: show }, t('preview'))), shown);
  }

  alertsCard(a) {
    const boxes = ['EMAIL', 'SMS', 'TELEGRAM'].map((c) => h('input', { type: 'checkbox', value: c, checked: a.channels.includes(c) }));
    const phone = h('input', { type: 'tel', maxlength: '32', value: a.phone || '' });
    const chat = h('input', { type: 'text', maxlength: '200', value: a.telegramChat || '' });
    const quietFrom = h('input', { type: 'time', value: a.quietFrom || '' });
    const quietTo = h('input', { type: 'time', value: a.quietTo || '' });
    const digest = h('select', null, options(['OFF', 'HOURLY', 'DAILY'].map((d) => [d, t(d)]), a.digest));
    return h('form', { class: 'card', onsubmit: (e) => { e.preventDefault(); this.act(async () => {
      await mutate('SaveAlerts', { channels: boxes.filter((b) => b.checked).map((b) => b.value), phone: phone.value.trim() || null, telegramChat: chat.value.trim() || null,
        quietFrom: quietFrom.value || null, quietTo: quietTo.value || null, digest: digest.value });
      this.status.textContent = t('saved');
    }); } }, h('h3', { text: t('alerts') }),
    h('fieldset', null, h('legend', { text: t('channels') }), boxes.map((b) => h('label', null, b, ' ', t(b.value), ' '))),
    h('div', { class: 'bar' }, field(t('phone'), phone), field(t('telegramChat'), chat), field(t('quietFrom'), quietFrom), field(t('quietTo'), quietTo), field(t('digest'), digest),
      h('button', { class: 'primary' }, t('save'))));
  }

  pipelineCard(pipeline) {
    const name = h('input', { type: 'text', required: true, size: '12' });
    const probability = h('input', { type: 'number', min: '0', max: '100', value: '50', size: '4' });
    return h('div', { class: 'card wide' }, h('h3', { text: `${t('pipeline')}: ${pipeline.name}` }),
      h('div', { class: 'scroll' }, table([[t('name')], [t('probability'), 1], ['']], pipeline.stages.map((stage) => {
        const input = h('input', { type: 'number', min: '0', max: '100', value: String(stage.probability), 'aria-label': `${t('probability')}: ${stage.name}` });
        return [stage.name, input,
          h('button', { type: 'button', onclick: () => this.act(async () => { await mutate('UpdateStage', { id: stage.id, probability: Number(input.value) }); this.status.textContent = t('saved'); }) }, t('save'))];
      }))),
      h('form', { class: 'bar', onsubmit: (e) => { e.preventDefault(); this.act(async () => {
        const open = pipeline.stages.filter((x) => x.kind === 'OPEN').length;
        await mutate('CreateStage', { pipelineId: pipeline.id, name: name.value, probability: Number(probability.value), position: open });
        await this.reload();
      }); } }, field(t('name'), name), field(t('probability'), probability), h('button', { class: 'primary' }, t('addStage'))));
  }

  fieldsCard(fields) {
    const label = h('input', { type: 'text', required: true, size: '12' });
    const key = h('input', { type: 'text', required: true, size: '10', pattern: '[a-z][a-z0-9_]*' });
    const type = h('select', null, options(['TEXT', 'NUMBER', 'DATE', 'BOOLEAN', 'CHOICE'].map((x) => [x, x.toLowerCase()])));
    const entity = h('select', null, options([['LEAD', t('LEAD')], ['CONTACT', t('CONTACT')]]));
    return h('div', { class: 'card' }, h('h3', { text: t('customFields') }),
      fields.length ? table([[t('name')], [t('fieldKey')], [t('fieldType')], [t('entity')]], fields.map((f) => [f.label, f.key, f.type.toLowerCase(), t(f.entity)])) : h('p', { class: 'muted' }, t('empty')),
      h('form', { class: 'bar', onsubmit: (e) => { e.preventDefault(); this.act(async () => {
        await mutate('CreateField', { entity: entity.value, key: key.value, label: label.value, type: type.value });
        await this.reload();
      }); } }, field(t('name'), label), field(t('fieldKey'), key), field(t('fieldType'), type), field(t('entity'), entity), h('button', { class: 'primary' }, t('addField'))));
  }
}

// ---------------------------------------------------------------- <embedcrm-panel>
const SECTIONS = [['inbox', 'embedcrm-inbox'], ['board', 'embedcrm-board'], ['tasks', 'embedcrm-tasks'],
  ['contacts', 'embedcrm-contacts'], ['reports', 'embedcrm-reports'], ['settings', 'embedcrm-settings']];

class Panel extends Part {
  constructor() { super(); this.state = { section: 'inbox' }; }

  render() {
    const allowed = S.claims.c;
    // Settings are for everyone: a member there sets their own alerts.
    const sections = SECTIONS.filter(([name]) => !allowed || allowed.includes(name));
    if (!sections.some(([name]) => name === this.state.section) && sections.length) this.state.section = sections[0][0];
    this.views = {};
    const tabs = sections.map(([name]) => h('button', {
      type: 'button', role: 'tab', id: 'tab-' + name, 'aria-controls': 'view-' + name,
      'aria-selected': String(name === this.state.section), tabindex: name === this.state.section ? '0' : '-1',
      onclick: () => this.show(name),
      onkeydown: (e) => {
        const i = sections.findIndex(([n]) => n === name);
        const to = e.key === 'ArrowRight' ? sections[(i + 1) % sections.length] : e.key === 'ArrowLeft' ? sections[(i - 1 + sections.length) % sections.length] : null;
        if (to) { e.preventDefault(); this.show(to[0]); this.shadowRoot.getElementById('tab-' + to[0]).focus(); }
      },
    }, t(name)));
    this.nav = h('div', { class: 'nav', role: 'tablist', 'aria-label': t('panel') }, tabs);
    // The parts are made once and kept: a new locale redraws them with their filters and pages.
    this.made = this.made || {};
    this.shadowRoot.replaceChildren(this.nav, ...sections.map(([name, tag]) => {
      const view = h('div', { role: 'tabpanel', id: 'view-' + name, 'aria-labelledby': 'tab-' + name, hidden: name !== this.state.section });
      if (name === this.state.section || this.made[name]) view.append(this.made[name] || (this.made[name] = h(tag)));
      this.views[name] = [view, tag];
      return view;
    }));
  }

  show(name) {
    this.state.section = name;
    for (const [key, [view, tag]] of Object.entries(this.views)) {
      view.hidden = key !== name;
      if (key === name && !view.firstChild) view.append(this.made[key] || (this.made[key] = h(tag)));
    }
    this.nav.querySelectorAll('[role=tab]').forEach((tab) => {
      const on = tab.id === 'tab-' + name;
      tab.setAttribute('aria-selected', String(on));
      tab.tabIndex = on ? 0 : -1;
    });
  }
}

// ---------------------------------------------------------------- the public API
const TAGS = {
  'embedcrm-panel': Panel, 'embedcrm-inbox': Inbox, 'embedcrm-board': Board, 'embedcrm-lead': LeadCard,
  'embedcrm-tasks': Tasks, 'embedcrm-contacts': Contacts, 'embedcrm-reports': Reports, 'embedcrm-settings': Settings,
};

function pickLocale(locale) {
  const wanted = String(locale || document.documentElement.lang || 'ru').slice(0, 2).toLowerCase();
  return TEXT[wanted] ? wanted : 'en';
}

let initialised = null;
async function init(options) {
  // Idempotent: a second call (SSR hydration, hot reload) updates instead of starting again.
  if (initialised) { update(options || {}); return initialised; }
  if (!options || typeof options.fetchToken !== 'function') throw new TypeError('embedcrm.panel.init needs fetchToken');
  S.options = { ...options };
  S.api = String(options.apiUrl || SCRIPT_ORIGIN).replace(/\/+$/, '');
  S.locale = pickLocale(options.locale);
  buildTheme();
  initialised = (async () => {
    // The inbox's first page does not depend on the workspace's settings: it is asked for beside
    // them, saving a round trip before the owner sees the leads.
    if (document.querySelector('embedcrm-panel, embedcrm-inbox')) {
      const variables = { first: 50, after: null, filter: { status: 'OPEN' }, segmentId: null, sort: 'UNANSWERED_FIRST' };
      S.prefetched = { key: JSON.stringify(variables), answer: gql(Q.Inbox, variables) };
      S.prefetched.answer.catch(() => {});
    }
    try {
      S.boot = await gql(Q.Boot);
    } catch (error) {
      S.boot = { workspace: null, pipelines: [], members: [], sites: [], tags: [] };
      document.dispatchEvent(new CustomEvent('embedcrm:error', { detail: { type: error.type || 'api', message: error.message } }));
    }
    resolveReady();
    stream();
  })();
  return initialised;
}

function update(changes) {
  if (!S.options) return;
  if (changes.appearance) { S.options.appearance = { ...S.options.appearance, ...changes.appearance }; buildTheme(); S.parts.forEach(applyScheme); }
  if (changes.locale && pickLocale(changes.locale) !== S.locale) {
    S.locale = pickLocale(changes.locale);
    // Only top-level parts re-render; a panel rebuilds the parts inside it.
    S.parts.forEach((part) => { if (!(part.getRootNode() instanceof ShadowRoot)) { part.render(); part.reload(); } });
  }
}

for (const [tag, cls] of Object.entries(TAGS)) {
  if (!customElements.get(tag)) customElements.define(tag, cls);
}
const api = globalThis.embedcrm || (globalThis.embedcrm = {});
if (!api.panel) api.panel = { init, update, version: VERSION };
