"""Chinese of the messages every page shares: the layout, sign-in, errors and the home page."""

CHINESE = {
    # layout
    "Skip to the content": "跳到正文",
    "Workspace": "工作区",
    "Sign out": "退出",
    "Home": "首页",
    "Upload": "上传",
    "Attribution": "归因",
    "Response models": "响应模型",
    "Plans": "预算方案",
    "Scenarios": "情景对比",
    "Audit trail": "审计记录",
    "Keys and links": "密钥与登录链接",
    "owner": "所有者",
    "buyer": "投放",
    "auditor": "审计",
    "finance": "财务",
    # sign-in
    "Sign in": "登录",
    "API key": "API 密钥",
    "Open the sign-in link that spendwise printed when it started, or one an owner gave you. "
    "Or sign in with an API key:":
        "打开 spendwise 启动时打印的登录链接，或所有者发给您的链接；也可以用 API 密钥登录：",
    "A new link can be printed at any time with:": "随时可以用以下命令生成新的登录链接：",
    "This sign-in link was used already, has expired or is unknown. Ask an owner for a new one, "
    "or sign in with an API key.":
        "此登录链接已被使用、已过期或无效。请向所有者索取新链接，或用 API 密钥登录。",
    "The admin key has no workspace; sign in with a workspace's key.":
        "管理员密钥不属于任何工作区；请用工作区的密钥登录。",
    "This key is unknown, revoked or expired.": "此密钥无效、已被吊销或已过期。",
    # errors
    "Not allowed": "无权操作",
    "Not found": "未找到",
    "Not allowed here": "此处不允许该操作",
    "Not ready yet": "尚未完成",
    "Too large": "内容过大",
    "Something went wrong": "出错了",
    "The request was refused": "请求被拒绝",
    "An unexpected error occurred; it was logged. Try again, or tell the workspace's owner.":
        "发生了意外错误，已记录日志。请重试，或联系工作区所有者。",
    "Your role does not allow this. An owner of the workspace can give you a key with another "
    "role.": "您的角色无权执行此操作。工作区所有者可以给您另一个角色的密钥。",
    "Back to the workspace": "返回工作区",
    # home
    "What to do next": "下一步",
    "Upload customer journeys (paths) for attribution, or weekly spend and outcomes for a "
    "response model.": "上传用户转化路径以做归因分析，或上传每周花费与结果以拟合响应模型。",
    "Compare attribution models on your journeys.": "在您的转化路径上比较各归因模型。",
    "Fit a response model of spend to outcomes.": "拟合花费到结果的响应模型。",
    "Build a budget plan from a fitted response model.": "基于已拟合的响应模型制定预算方案。",
    "Compare plans and forecasts side by side.": "并排比较预算方案与预测。",
    "Datasets": "数据集",
    "Attribution reports": "归因报告",
    "Budget plans": "预算方案",
    "ROMI forecasts": "ROMI 预测",
    "Name": "名称",
    "State": "状态",
    "Created by": "创建者",
    "Created": "创建时间",
    "None yet.": "暂无。",
    "{rows} rows": "{rows} 行",
    "queued": "排队中",
    "running": "运行中",
    "ready": "已完成",
    "failed": "失败",
    "Progress": "进度",
    "about {seconds} s left": "约剩 {seconds} 秒",
    "{models} on {dataset}": "{dataset} 上的 {models}",
    "{kpi} from {dataset}, {curve} curves": "基于 {dataset} 的{kpi}，{curve} 曲线",
    "{objective} plan, {budget} over {period}": "{objective}方案，{period}预算 {budget}",
    "Forecast over {period}": "{period}预测",
    "{weeks} weeks": "{weeks} 周",
    "Measure": "指标",
    "revenue": "收入",
    "profit": "利润",
    "cvar": "稳健（CVaR）",
    "min_spend": "最低花费",
    # dataset kinds
    "journey paths": "转化路径",
    "touch log": "触点日志",
    "conversion log": "转化日志",
    "spend": "花费",
    "outcomes": "结果",
    "controls": "控制变量",
    "lift tests": "增量实验",
    # KPIs
    "conversions": "转化",
}
