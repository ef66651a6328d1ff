"""Chinese of the plan builder, the plan and forecast pages and the plan in words.

The messages of :data:`optimizer.headline.MESSAGES` (the summary sentence) are
here too; ``tests/api/web/test_plans.py`` checks that each has its Chinese.
Periods are said as ``每周``/``每月``/``每季度`` (a week, a month, a quarter)
and ``{weeks} 周``, so the sentences put them before the amount or the KPI.
"""

CHINESE = {
    "today": "当前",
    "proposed": "方案",
    "this allocation": "此分配",
    "Spend today and proposed, by channel": "各渠道当前与方案的花费",
    "Spend and expected KPI by channel": "各渠道的花费与预期 KPI",
    "spend over {period}": "{period}花费",
    "expected {kpi} (median, 90% interval)": "预期{kpi}（中位数，90% 区间）",
    "Raise the channels' maximums or the largest change, or tick \"Spend at most the budget\" "
    "below.": "请提高各渠道的上限或最大调整幅度，或勾选下方的“最多花完预算”。",
    "Spend at most the budget: the plan may leave money unspent where the limits or the curves "
    "leave nothing worth buying":
        "最多花完预算：若限制或曲线表明已无值得投入之处，方案可留下未花的钱",
    # periods, measures and lists (shared with the summary sentence)
    "a week": "每周",
    "a month": "每月",
    "a quarter": "每季度",
    "over {weeks} weeks": "{weeks} 周内",
    "{first} and {last}": "{first}和{last}",
    "{names} and {count} more": "{names}等另外 {count} 个渠道",
    # the summary sentence (optimizer.headline)
    "Move {amount} from {sources} to {destinations}": "从{sources}调出 {amount} 给{destinations}",
    "Move {amount} from {sources} to {destinations}, and spend {extra} more in all":
        "从{sources}调出 {amount} 给{destinations}，总花费增加 {extra}",
    "Move {amount} from {sources} to {destinations}, and spend {extra} less in all":
        "从{sources}调出 {amount} 给{destinations}，总花费减少 {extra}",
    "Add {amount} to {destinations}": "给{destinations}增加 {amount}",
    "Cut {amount} from {sources}": "从{sources}削减 {amount}",
    "Keep today's allocation": "保持当前分配",
    "{action}.": "{action}。",
    "{action}: {gain} {measure} {period} ({low}–{high}).":
        "{action}：{period}{measure} {gain}（{low}–{high}）。",
    "{action}: {gain} {measure} {period} ({low}–{high}), {probability} likely to beat today's "
    "allocation.": "{action}：{period}{measure} {gain}（{low}–{high}），有 {probability} 的可能优于"
                   "当前分配。",
    # the builder
    "New budget plan": "新建预算方案",
    "A plan divides a budget between the channels so that the model expects the most of what "
    "you aim for, within the limits you set. Amounts are the period's, written as you would "
    "write them: 1.2M, 1,200,000 or 120万.":
        "预算方案在您设定的限制内把预算分给各渠道，使模型预期的目标值最大。金额为所选周期的金额，"
        "可按习惯书写：1.2M、1,200,000 或 120万。",
    "A plan needs a fitted response model of this workspace.":
        "预算方案需要本工作区一个已拟合的响应模型。",
    "Fit one first.": "请先拟合一个。",
    "1. The model and the period": "1. 模型与周期",
    "Response model": "响应模型",
    "Period": "周期",
    "Show": "显示",
    "A month is 52/12 weeks (4.33), a quarter 13 weeks. Every amount below is for {period}.":
        "一个月按 52/12 周（4.33 周）计，一个季度按 13 周计。以下金额均为{period}的金额。",
    "2. The budget and the limits": "2. 预算与限制",
    "Budget for {period}": "{period}预算",
    "Today's allocation spends {amount} {period}.": "当前分配{period}花费 {amount}。",
    "Aim for": "目标",
    "Profit and the least spend keep the budget as a cap: the plan may spend less.":
        "利润和最低花费两个目标把预算视为上限：方案可能花得更少。",
    "Target {kpi} for {period} (only for the least spend)": "{period}目标{kpi}（仅用于最低花费）",
    "The expected {kpi} the plan must reach, e.g. 5k.": "方案必须达到的预期{kpi}，例如 5k。",
    "Largest change of a channel against today (%)": "各渠道相对当前的最大变化（%）",
    "30 keeps every channel within 30% of its spend today. Empty: no such limit.":
        "填 30 表示每个渠道的花费与当前相比变化不超过 30%。留空：不设此限制。",
    "Limits per channel, for {period}": "各渠道的限制（{period}）",
    "Leave a limit empty for none. A locked channel keeps today's spend. Without a maximum, a "
    "channel may spend up to 1.5 times its largest week in the data.":
        "留空表示不设限制。锁定的渠道保持当前花费。不设上限时，渠道最多可花到数据中最大单周花费的 "
        "1.5 倍。",
    "Channels, today and your limits, for {period}": "各渠道的当前花费与您的限制（{period}）",
    "Today": "当前",
    "Minimum": "下限",
    "Maximum": "上限",
    "Lock": "锁定",
    "Minimum for {channel}": "{channel}的下限",
    "Maximum for {channel}": "{channel}的上限",
    "Lock {channel} at today's spend": "将{channel}锁定在当前花费",
    "Plan even though the model's sampler did not converge": "即使模型的抽样器未收敛也制定方案",
    "Make the plan": "制定方案",
    "What the model expects": "模型的预期",
    "Today is the model's mean weekly spend over the last {weeks} weeks of its data; the table "
    "shows it for {period}.": "“当前”是模型数据最后 {weeks} 周的平均每周花费；表中按{period}显示。",
    "Weekly {kpi} of each channel against its weekly spend: the median curve, its 90% band and "
    "today's spend (dashed).": "各渠道每周{kpi}随每周花费的变化：中位数曲线、90% 区间带和当前花费"
                               "（虚线）。",
    "What each total budget would bring: the budget frontier": "不同总预算能带来什么：预算前沿",
    "Most conversions": "最多转化",
    "Most revenue": "最多收入",
    "Most profit (revenue minus spend): spend only while the next unit returns more than it "
    "costs": "最多利润（收入减花费）：只在下一单位花费的回报高于其成本时才花",
    "Most {kpi} in a bad case (the mean of the worst 10% of outcomes)":
        "不利情形下最多{kpi}（最差 10% 结果的平均值）",
    "Least spend that reaches a target": "达到目标的最低花费",
    "Choose a fitted model of this workspace.": "请选择本工作区一个已拟合的模型。",
    "Choose a week, a month or a quarter.": "请选择周、月或季度。",
    # amounts typed in the builder
    "Enter an amount, such as 1.2M, 1,200,000 or 120万.":
        "请输入金额，例如 1.2M、1,200,000 或 120万。",
    "Write an amount such as 1.2M, 1,200,000 or 120万.":
        "请按 1.2M、1,200,000 或 120万 这样的格式书写金额。",
    "An amount cannot be negative.": "金额不能为负数。",
    "This is above the largest amount accepted, {amount}.": "超过了可接受的最大金额 {amount}。",
    "The thousands separator groups three digits, as in 1,200,000.":
        "千位分隔符每三位一组，例如 1,200,000。",
    "Give one unit (k, M, bn, 万, 亿), not two.":
        "只能使用一个单位（k、M、bn、万、亿），不能两个连用。",
    "Amounts here are in {currency}; nothing is converted.": "此处金额以 {currency} 计，不做换算。",
    "Enter a percentage, such as 30 or 30%.": "请输入百分比，例如 30 或 30%。",
    "The minimum is above the maximum.": "下限高于上限。",
    "This minimum is above the budget of {budget}.": "该下限高于预算 {budget}。",
    # the plan page
    "A week's budget": "每周预算",
    "A month's budget": "每月预算",
    "A quarter's budget": "每季度预算",
    "Budget over {weeks} weeks": "{weeks} 周预算",
    "The plan in figures": "方案数字一览",
    "Gain in {measure} against today": "{measure}相对当前的增量",
    "Chance of beating today in {measure}": "{measure}优于当前的概率",
    "Spend, today and proposed": "花费：当前 → 方案",
    "Expected {kpi}, today and proposed": "预期{kpi}：当前 → 方案",
    "Budget plan {id}": "预算方案 {id}",
    "Today is the weekly spend given with the plan, counted for {period}.":
        "“当前”是随方案提供的每周花费，按{period}计。",
    "Today is the model's mean weekly spend over the last {weeks} weeks of its data, counted "
    "for {period}.": "“当前”是模型数据最后 {weeks} 周的平均每周花费，按{period}计。",
    "Amounts are for {period}; ranges are 90% intervals over the model's posterior draws.":
        "金额为{period}的金额；范围是模型后验抽样的 90% 区间。",
    "Which limits bind, and why": "哪些限制起作用，为什么",
    "No limit binds: every channel sits where its next unit returns as much as any other's.":
        "没有限制起作用：每个渠道都停在其下一单位花费的回报与其他渠道相同的位置。",
    "Money left unspent": "未花完的预算",
    "Beyond the spend the data has seen": "超出数据见过的花费",
    "Today against the plan": "当前与方案对比",
    "Spend of each channel for {period}, today and proposed, and the proposal's expected {kpi} "
    "(median and 90% interval).": "各渠道{period}的当前花费与方案花费，以及方案的预期{kpi}"
                                  "（中位数与 90% 区间）。",
    "Channels": "渠道",
    "Spend for {period}, today and proposed, with the limits the plan kept":
        "{period}花费：当前与方案，以及方案遵守的限制",
    "Proposed": "方案",
    "Change": "变化",
    "Expected {kpi}": "预期{kpi}",
    "ROMI": "ROMI",
    "Limits": "限制",
    "Note": "备注",
    "no cap": "无上限",
    "beyond its data": "超出其数据",
    "at its maximum": "处于上限",
    "at its minimum": "处于下限",
    "locked": "已锁定",
    "held": "固定",
    "gets nothing": "不分配",
    "Forecast this plan": "预测此方案",
    "A ROMI forecast of this allocation: revenue, profit and ROMI with their intervals, against "
    "today's allocation.": "对此分配做 ROMI 预测：收入、利润和 ROMI 及其区间，并与当前分配对比。",
    "Over": "期间",
    "Make the forecast": "生成预测",
    "What next": "下一步",
    "Download the channel table (CSV)": "下载渠道表（CSV）",
    "Download this page to send by email (HTML)": "下载本页以便邮件发送（HTML）",
    "Compare plans and forecasts side by side": "并排比较方案与预测",
    "The budget frontier of this model": "此模型的预算前沿",
    "The response model": "响应模型",
    "There is no such plan in this workspace.": "本工作区没有这个方案。",
    "This plan has no result yet.": "此方案还没有结果。",
    # limits that bind, money unspent, beyond the data (api/web/plan_words.py)
    "{count} conversions": "{count} 次转化",
    "{amount} of revenue": "{amount} 收入",
    "{amount} of profit": "{amount} 利润",
    "{amount} {period}": "{period} {amount}",
    "maximum": "上限",
    "minimum": "下限",
    "first": "第一个",
    "next": "下一个",
    "the {limit} you set, {amount} {period}": "您设定的{limit}，{period} {amount}",
    "today's spend {sign} the largest change you allowed ({change}), {amount} {period}":
        "当前花费 {sign} 您允许的最大变化（{change}），{period} {amount}",
    "{multiple} times its largest weekly spend in the data, {amount} {period}: beyond it the "
    "model cannot vouch for the response":
        "其数据中最大单周花费的 {multiple} 倍，{period} {amount}："
        "超出此范围模型无法保证响应的可靠性",
    "Another {per} there would bring {mine}, more than the {theirs} the budget's last {per} "
    "brings, so it would take more.": "在这里再花 {per} 能带来{mine}，多于预算最后 {per} 带来的"
                                      "{theirs}，所以它本可以分到更多。",
    "Its {which} {per} would bring {mine}, less than the {theirs} the budget's last {per} "
    "brings, so it would take less.": "它的{which} {per} 只能带来{mine}，少于预算最后 {per} 带来的"
                                      "{theirs}，所以它本应分到更少。",
    "The budget of {amount} is spent in full, as you asked.": "预算 {amount} 按您的要求全部花完。",
    "The budget cap of {amount} is reached.": "已达到预算上限 {amount}。",
    "Another {per} would bring about {value}.": "再增加 {per} 约能带来{value}。",
    "The target of {amount} {kpi} is reached at the least spend.":
        "以最低花费达到了 {amount} {kpi}的目标。",
    "The ROMI floor of {floor} binds: spending more would take ROMI below it.":
        "ROMI 下限 {floor} 起作用：再多花会使 ROMI 低于它。",
    "{channel} is locked at today's spend, {amount} {period}.":
        "{channel}锁定在当前花费，{period} {amount}。",
    "{channel} is held at {amount} {period}, where its minimum and maximum meet.":
        "{channel}固定在{period} {amount}，即其下限与上限相等之处。",
    "{channel} gets nothing.": "{channel}不分配预算。",
    "{channel} is at its maximum: {why}.": "{channel}处于上限：{why}。",
    "{channel} is at its minimum: {why}.": "{channel}处于下限：{why}。",
    "{amount} of the budget is left unspent: every channel is at its maximum. Raise the maximums "
    "to spend it.": "预算中有 {amount} 未花完：每个渠道都已达上限。提高上限才能花掉它。",
    "{amount} of the budget is left unspent: beyond this plan the next unit of every channel "
    "returns less than it costs, so spending it would lower profit.":
        "预算中有 {amount} 未花完：超出此方案后，每个渠道下一单位花费的回报都低于其成本，"
        "再花会降低利润。",
    "{amount} of the budget is left unspent: the target is reached without it.":
        "预算中有 {amount} 未花完：不花它也能达到目标。",
    "{amount} of the budget is left unspent: spending it would take ROMI below the floor.":
        "预算中有 {amount} 未花完：花掉它会使 ROMI 低于下限。",
    "{amount} of the budget is left unspent: the plan does better without it.":
        "预算中有 {amount} 未花完：不花它方案效果更好。",
    "{channel}: {weekly} a week, above the most its data has seen in a week ({seen}). The "
    "response there is the curve extrapolated: test the increase before relying on it.":
        "{channel}：每周 {weekly}，高于其数据中见过的最大单周花费（{seen}）。"
        "那里的响应是曲线外推的：请先测试这一增加再依赖它。",
    # waiting, failed
    "State:": "状态：",
    "The plan could not be made: {reason}": "无法制定方案：{reason}",
    "its job no longer exists.": "其任务已不存在。",
    "Build another plan": "制定另一个方案",
    "The plan's convex program is being solved in the background. This page follows it and "
    "shows the plan when it is ready.":
        "方案的凸优化问题正在后台求解。本页会跟踪进度，完成后显示方案。",
    # forecasts
    "ROMI forecast {id}": "ROMI 预测 {id}",
    "ROMI forecast of plan {id}": "方案 {id} 的 ROMI 预测",
    "A ROMI forecast of the allocation of plan {id}: what it is expected to bring in revenue, "
    "profit and ROMI, with their intervals, against today's allocation.":
        "对方案 {id} 的分配做 ROMI 预测：预期的收入、利润和 ROMI 及其区间，并与当前分配对比。",
    "The plan sets a spend per week; the forecast covers its weeks.":
        "该方案逐周设定花费；预测覆盖这些周。",
    "Back to the plan": "返回方案",
    "Forecasts are made of finished plans whose model still exists.":
        "只能对已完成且模型仍存在的方案做预测。",
    "Amounts are for {period}; ranges are 90% intervals over the model's posterior draws. Today "
    "is the model's mean weekly spend over the last weeks of its data.":
        "金额为{period}的金额；范围是模型后验抽样的 90% 区间。"
        "“当前”是模型数据最后几周的平均每周花费。",
    "What the allocation brings": "此分配带来什么",
    "Expected for {period}, and against today's allocation":
        "{period}的预期值，以及与当前分配的对比",
    "Expected": "预期",
    "Against today": "与当前相比",
    "Chance of beating today": "优于当前的概率",
    "Revenue": "收入",
    "Profit (revenue minus spend)": "利润（收入减花费）",
    "By channel": "按渠道",
    "Spend of each channel for {period} and its expected {kpi} (median and 90% interval).":
        "各渠道{period}的花费及其预期{kpi}（中位数与 90% 区间）。",
    "Spend and returns for {period} per channel": "各渠道{period}的花费与回报",
}
