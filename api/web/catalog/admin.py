"""Chinese of the audit trail and of the keys, sign-in links and currency page."""

CHINESE = {
    "Every change in this workspace, who made it and when, newest first. Keys are named by "
    "their label and role, never by their secret.":
        "本工作区的每一项变更、操作者与时间，最新的在前。密钥以标签和角色显示，绝不显示密钥本身。",
    "Filter the audit trail": "筛选审计记录",
    "What": "操作",
    "everything": "全部",
    "Who": "操作者",
    "anyone": "任何人",
    "On": "对象",
    "anything": "全部",
    "From (YYYY-MM-DD)": "起始日期（YYYY-MM-DD）",
    "To (YYYY-MM-DD)": "截止日期（YYYY-MM-DD）",
    "Filter": "筛选",
    "When": "时间",
    "Details": "详情",
    "Older events": "更早的记录",
    "No event matches these filters.": "没有符合筛选条件的记录。",
    "New {role} key. Copy it now: it is shown only this once.":
        "新的{role}密钥。请立即复制：它只显示这一次。",
    "Sign-in link for the {role} role. Send it to the person it is for: it works once, within "
    "{minutes} minutes.":
        "{role}角色的登录链接。请发给对应的人：它只能使用一次，{minutes} 分钟内有效。",
    "Key {key} revoked; its browser sessions have ended.":
        "密钥 {key} 已吊销，其浏览器会话已结束。",
    "Amounts are now shown in {currency}.": "金额现以 {currency} 显示。",
    "Sign-in link": "登录链接",
    "A link signs a browser in once, with the role you choose; the session belongs to a new key "
    "that you can revoke below.":
        "链接可让浏览器以您选择的角色登录一次；该会话属于一个新密钥，您可以在下方吊销它。",
    "Role": "角色",
    "Make a sign-in link": "生成登录链接",
    "New API key": "新建 API 密钥",
    "A key is for programs that call the JSON API, or for signing in on the sign-in page.":
        "密钥供调用 JSON API 的程序使用，也可在登录页登录。",
    "Label (who or what uses it)": "标签（谁或什么在使用）",
    "Expires after (days, empty for never)": "有效天数（留空表示永不过期）",
    "Make a key": "生成密钥",
    "Currency": "币种",
    "The currency of the money in this workspace's data. Every amount is shown in it; nothing "
    "is converted.": "本工作区数据中金额的币种。所有金额都以此显示，不做汇率换算。",
    "Save the currency": "保存币种",
    "Keys of this workspace": "本工作区的密钥",
    "Key": "密钥",
    "Label": "标签",
    "Last used": "最近使用",
    "Action": "操作",
    "active": "有效",
    "revoked": "已吊销",
    "expired": "已过期",
    "Revoke key {key}": "吊销密钥 {key}",
    "Revoke": "吊销",
    "this browser": "当前浏览器",
    "uploaded a dataset": "上传了数据集",
    "deleted a dataset": "删除了数据集",
    "built journeys": "生成了用户旅程",
    "ran an attribution report": "运行了归因报告",
    "started a response model": "开始拟合响应模型",
    "made a budget plan": "制定了预算方案",
    "made a ROMI forecast": "做了 ROMI 预测",
    "made an API key": "生成了 API 密钥",
    "revoked an API key": "吊销了 API 密钥",
    "made a sign-in link": "生成了登录链接",
    "signed in": "登录",
    "signed out": "退出",
    "created the workspace": "创建了工作区",
    "changed the workspace's currency": "修改了工作区币种",
    "No such key in this workspace.": "本工作区没有此密钥。",
    "You cannot revoke the key you are signed in with; sign in with another owner key first.":
        "不能吊销您当前登录所用的密钥；请先用另一个所有者密钥登录。",
    "Choose one of the roles.": "请选择一个角色。",
    "Enter a date as YYYY-MM-DD.": "请按 YYYY-MM-DD 格式输入日期。",
}
